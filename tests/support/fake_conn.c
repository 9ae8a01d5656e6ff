/* The fake host's connections: the connect chain, identities, rooms,
 * emits and client events (see fake_host.h). */
#define _GNU_SOURCE
#include "fake_host_private.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/id_diff.h"

struct sbr_message {
    char *event;
    char *args;
    json_t *args_value; /* parsed once, for api->msg_arg_* */
    sbr_event_message ev;
    size_t next; /* the next hook of the chain */
    int handler_done;
    int done;
    char *ack;
};

struct fake_emit { sbr_conn_id conn; char *event; char *data; };

struct fake_conn {
    sbr_conn_id id;
    int alive;
    int connected;
    char *query_token;
    char *authorization;
    char *auth_json;
    int has_identity;
    sbr_identity identity;
    char **rooms;
    size_t n_rooms;
    sbr_event_connect connect_ev;
    size_t connect_next;
    int connect_done;
    int resumed; /* the verdict of connect_resume, -1 before */
    const char *resumed_reason;
    char *disconnected; /* the reason of conn_disconnect */
    int notifying;      /* its SBR_EVENT_IDENTITY hooks run now */
    int recovered;      /* what SBR_EVENT_CONNECTED says of a recovery asked (fake_open_recovering) */
};

static FAKE_ARRAY(struct fake_conn *, conns);
static FAKE_ARRAY(struct fake_emit, emits);
static FAKE_ARRAY(struct sbr_message *, messages);
static sbr_conn_id next_conn = 1;

static struct fake_conn *conn_find(sbr_conn_id id)
{
    return id >= 1 && id <= n_conns ? conns[id - 1] : NULL;
}
static struct fake_conn *conn_live(sbr_conn_id id)
{
    struct fake_conn *c = conn_find(id);
    return c && c->alive ? c : NULL;
}

static int api_conn_alive(sbr_conn_id conn) { return conn_live(conn) != NULL; }
static const char *api_conn_query(sbr_conn_id conn, const char *name)
{
    struct fake_conn *c = conn_live(conn);
    return c && strcmp(name, "token") == 0 ? c->query_token : NULL;
}
static const char *api_conn_header(sbr_conn_id conn, const char *name)
{
    struct fake_conn *c = conn_live(conn);
    return c && strcasecmp(name, "authorization") == 0 ? c->authorization : NULL;
}
static const char *api_conn_remote_addr(sbr_conn_id conn) { return conn_live(conn) ? "127.0.0.1" : NULL; }
static const char *api_conn_namespace(sbr_conn_id conn) { return conn_live(conn) ? "/" : NULL; }
static int api_namespace_add(sbr_plugin *self, const char *nsp) { return SBR_ERR_STATE; }

static char **list_copy(const char *const *list, size_t n)
{
    char **copy = calloc(n + 1, sizeof *copy);
    for (size_t i = 0; i < n; i++)
        copy[i] = strdup(list[i]);
    return copy;
}
static void list_free(const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)list[i]);
    free((void *)list);
}

static void identity_free(sbr_identity *who)
{
    free((char *)who->user_id);
    free((char *)who->session_id);
    list_free(who->servers, who->n_servers);
    list_free(who->moderates, who->n_moderates);
}

static void identity_copy(sbr_identity *out, const sbr_identity *who)
{
    *out = *who;
    out->user_id = strdup(who->user_id);
    out->session_id = fake_strdup(who->session_id);
    out->servers = (const char *const *)list_copy(who->servers, who->n_servers);
    out->moderates = (const char *const *)list_copy(who->moderates, who->n_moderates);
}

/* As the core: SBR_EVENT_IDENTITY with the differences, the new identity in place. */
static void identity_notify(sbr_conn_id conn, const sbr_identity *previous, const sbr_identity *current)
{
    struct id_diff servers, moderates;
    fake_check(id_diff_compute(previous->servers, previous->n_servers, current->servers, current->n_servers,
                               &servers) == 0 &&
                   id_diff_compute(previous->moderates, previous->n_moderates, current->moderates,
                                   current->n_moderates, &moderates) == 0,
               "out of memory");
    sbr_event_identity ev = {.struct_size = sizeof ev, .conn = conn, .previous = previous, .current = current,
                             .servers_added = servers.added, .n_servers_added = servers.n_added,
                             .servers_removed = servers.removed, .n_servers_removed = servers.n_removed,
                             .moderates_added = moderates.added, .n_moderates_added = moderates.n_added,
                             .moderates_removed = moderates.removed, .n_moderates_removed = moderates.n_removed};
    fake_notify(SBR_EVENT_IDENTITY, &ev);
    id_diff_free(&servers);
    id_diff_free(&moderates);
}

/* A deep copy, as the core keeps it; replacing one keeps its user and
 * tells the plugins (not again from their own identity hooks). */
static int api_conn_set_identity(sbr_conn_id conn, const sbr_identity *who)
{
    struct fake_conn *c = conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (!who || !who->user_id)
        return SBR_ERR_INVALID;
    if (c->notifying)
        return SBR_ERR_STATE;
    if (c->has_identity && strcmp(c->identity.user_id, who->user_id) != 0)
        return SBR_ERR_INVALID;
    sbr_identity previous = c->identity;
    int had = c->has_identity;
    identity_copy(&c->identity, who);
    c->has_identity = 1;
    if (had) {
        c->notifying = 1;
        identity_notify(conn, &previous, &c->identity);
        c->notifying = 0;
        identity_free(&previous);
    }
    return SBR_OK;
}
static const sbr_identity *api_conn_identity(sbr_conn_id conn)
{
    struct fake_conn *c = conn_live(conn);
    return c && c->has_identity ? &c->identity : NULL;
}

/* As the core: the close happens later, from the loop. */
static int api_conn_disconnect(sbr_conn_id conn, const char *reason)
{
    struct fake_conn *c = conn_live(conn);
    if (!c || c->disconnected)
        return SBR_ERR_GONE;
    c->disconnected = strdup(reason ? reason : "");
    struct fake_call *call = fake_queue(NULL, NULL);
    call->close = conn;
    call->data = strdup(c->disconnected);
    return SBR_OK;
}

/* --- the connect chain ------------------------------------------------------------ */

static void connect_continue(struct fake_conn *c)
{
    while (c->connect_next < n_fake_hooks) {
        struct fake_hook h = fake_hooks[c->connect_next++];
        if (h.id != SBR_EVENT_CONNECT)
            continue;
        int verdict = h.fn(SBR_EVENT_CONNECT, &c->connect_ev, h.ud);
        if (verdict == SBR_PASS)
            continue;
        if (verdict == SBR_REFUSE)
            c->connect_done = 1;
        return;
    }
    c->connect_done = 1;
    c->connected = 1;
    sbr_event_connected ev = {.struct_size = sizeof ev, .conn = c->id, .recovered = c->recovered,
                              .recovery_asked = c->connect_ev.recovery != NULL};
    fake_notify(SBR_EVENT_CONNECTED, &ev);
}

static int api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason)
{
    struct fake_conn *c = conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    fake_check(!c->connect_done, "connect_resume on connection %llu, whose chain is over", (unsigned long long)conn);
    c->resumed = (int)verdict;
    c->resumed_reason = reason;
    if (verdict == SBR_REFUSE)
        c->connect_done = 1;
    else
        connect_continue(c);
    return SBR_OK;
}

static struct fake_conn *conn_new(void)
{
    struct fake_conn *c = calloc(1, sizeof *c);
    c->id = next_conn++;
    c->alive = 1;
    c->resumed = -1;
    c->connect_ev.struct_size = sizeof c->connect_ev;
    c->connect_ev.conn = c->id;
    c->connect_ev.nsp = "/";
    FAKE_PUSH(conns, c);
    return c;
}

sbr_conn_id fake_open(const char *query_token, const char *authorization, const char *auth_json, int *verdict,
                      const char **reason)
{
    struct fake_conn *c = conn_new();
    c->query_token = fake_strdup(query_token);
    c->authorization = fake_strdup(authorization);
    c->auth_json = fake_strdup(auth_json);
    c->connect_ev.auth_json = c->auth_json;
    connect_continue(c);
    *verdict = c->connected ? SBR_PASS : c->connect_done ? SBR_REFUSE : SBR_PENDING;
    *reason = c->connect_ev.reason;
    return c->id;
}

static int api_room_join(sbr_conn_id conn, const char *room);

static size_t list_len(const char *const *list)
{
    size_t n = 0;
    while (list && list[n])
        n++;
    return n;
}

sbr_conn_id fake_connect(const char *user_id, const char *const *servers, const char *const *moderates)
{
    struct fake_conn *c = conn_new();
    sbr_identity who = {.struct_size = sizeof who, .user_id = user_id, .servers = servers,
                        .n_servers = list_len(servers), .moderates = moderates, .n_moderates = list_len(moderates)};
    api_conn_set_identity(c->id, &who);
    char room[300];
    snprintf(room, sizeof room, "user:%s", user_id);
    api_room_join(c->id, room);
    for (size_t i = 0; i < who.n_servers; i++) {
        snprintf(room, sizeof room, "server:%s", servers[i]);
        api_room_join(c->id, room);
    }
    connect_continue(c);
    fake_run();
    return c->connected ? c->id : 0;
}

sbr_conn_id fake_open_restored(const char *query_token, const char *user_id, const char *const *servers, int *verdict,
                               const char **reason)
{
    struct fake_conn *c = conn_new();
    c->query_token = fake_strdup(query_token);
    sbr_identity who = {.struct_size = sizeof who, .user_id = user_id, .servers = servers,
                        .n_servers = list_len(servers)};
    api_conn_set_identity(c->id, &who);
    char room[300];
    snprintf(room, sizeof room, "user:%s", user_id);
    api_room_join(c->id, room);
    for (size_t i = 0; i < who.n_servers; i++) {
        snprintf(room, sizeof room, "server:%s", servers[i]);
        api_room_join(c->id, room);
    }
    connect_continue(c);
    *verdict = c->connected ? SBR_PASS : c->connect_done ? SBR_REFUSE : SBR_PENDING;
    *reason = c->connect_ev.reason;
    return c->id;
}

sbr_conn_id fake_open_recovering(const char *query_token, const char *user_id, const char *const *servers,
                                 const sbr_recovery *offer, int recovered, int *verdict, const char **reason)
{
    struct fake_conn *c = conn_new();
    c->query_token = fake_strdup(query_token);
    if (user_id) {
        sbr_identity who = {.struct_size = sizeof who, .user_id = user_id, .servers = servers,
                            .n_servers = list_len(servers)};
        api_conn_set_identity(c->id, &who);
    }
    c->connect_ev.recovery = offer;
    c->recovered = recovered;
    connect_continue(c);
    *verdict = c->connected ? SBR_PASS : c->connect_done ? SBR_REFUSE : SBR_PENDING;
    *reason = c->connect_ev.reason;
    return c->id;
}

int fake_room_join(sbr_conn_id conn, const char *room) { return api_room_join(conn, room); }

int fake_resumed(sbr_conn_id conn, const char **reason)
{
    struct fake_conn *c = conn_find(conn);
    *reason = c ? c->resumed_reason : NULL;
    return c ? c->resumed : -1;
}

const sbr_identity *fake_identity(sbr_conn_id conn) { return api_conn_identity(conn); }

int fake_change_identity(sbr_conn_id conn, const char *const *servers, const char *const *moderates)
{
    const sbr_identity *now = api_conn_identity(conn);
    if (!now)
        return SBR_ERR_GONE;
    sbr_identity next = *now;
    next.servers = servers;
    next.n_servers = list_len(servers);
    next.moderates = moderates;
    next.n_moderates = list_len(moderates);
    int rc = api_conn_set_identity(conn, &next);
    fake_run();
    return rc;
}

const char *fake_disconnected(sbr_conn_id conn)
{
    struct fake_conn *c = conn_find(conn);
    return c ? c->disconnected : NULL;
}

/* --- rooms and emits ------------------------------------------------------------------ */

static int api_room_join(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    fake_check(room && *room && strlen(room) <= 255, "joined an invalid room");
    for (size_t i = 0; i < c->n_rooms; i++)
        if (strcmp(c->rooms[i], room) == 0)
            return SBR_OK;
    c->rooms = realloc(c->rooms, (c->n_rooms + 1) * sizeof *c->rooms);
    c->rooms[c->n_rooms++] = strdup(room);
    return SBR_OK;
}

static int api_room_leave(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    for (size_t i = 0; i < c->n_rooms; i++) {
        if (strcmp(c->rooms[i], room) == 0) {
            free(c->rooms[i]);
            c->rooms[i] = c->rooms[--c->n_rooms];
            break;
        }
    }
    return SBR_OK;
}

static int api_room_contains(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = conn_live(conn);
    for (size_t i = 0; c && i < c->n_rooms; i++)
        if (strcmp(c->rooms[i], room) == 0)
            return 1;
    return 0;
}

int fake_in_room(sbr_conn_id conn, const char *room) { return api_room_contains(conn, room); }

static size_t api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *ud)
{
    size_t n = 0;
    for (size_t i = 0; i < n_conns; i++)
        if (api_room_contains(conns[i]->id, room)) {
            fn(conns[i]->id, ud);
            n++;
        }
    return n;
}

static int api_emit(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags)
{
    if (!conn_live(conn))
        return SBR_ERR_GONE;
    FAKE_PUSH(emits, ((struct fake_emit){conn, strdup(event), fake_strdup(data_json)}));
    return SBR_OK;
}

/* As the core: disconnect_reason first, then the close, later. */
static int api_conn_end(sbr_conn_id conn, const char *code)
{
    if (!code || !*code || strlen(code) > 64 || strspn(code, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(code))
        return SBR_ERR_INVALID;
    struct fake_conn *c = conn_live(conn);
    if (!c || c->disconnected)
        return SBR_ERR_GONE;
    char payload[96];
    snprintf(payload, sizeof(payload), "{\"reason\":\"%s\"}", code);
    api_emit(conn, "disconnect_reason", payload, 0);
    return api_conn_disconnect(conn, code);
}

static int api_emit_room(const char *room, const char *event, const char *data_json, sbr_conn_id except,
                         unsigned flags)
{
    if (!room || !*room || !event || !*event)
        return SBR_ERR_INVALID;
    for (size_t i = 0; i < n_conns; i++)
        if (conns[i]->id != except && api_room_contains(conns[i]->id, room))
            api_emit(conns[i]->id, event, data_json, flags);
    return SBR_OK;
}

size_t fake_received(sbr_conn_id conn, const char *event)
{
    size_t n = 0;
    for (size_t i = 0; i < n_emits; i++)
        if (emits[i].conn == conn && strcmp(emits[i].event, event) == 0)
            n++;
    return n;
}

const char *fake_last(sbr_conn_id conn, const char *event)
{
    for (size_t i = n_emits; i > 0; i--)
        if (emits[i - 1].conn == conn && strcmp(emits[i - 1].event, event) == 0)
            return emits[i - 1].data ? emits[i - 1].data : "";
    return NULL;
}

void fake_clear_received(void)
{
    for (size_t i = 0; i < n_emits; i++) {
        free(emits[i].event);
        free(emits[i].data);
    }
    n_emits = 0;
}

/* --- closing ------------------------------------------------------------------------ */

void fake_conn_close(sbr_conn_id conn, const char *reason)
{
    struct fake_conn *c = conn_live(conn);
    if (!c)
        return;
    while (c->n_rooms)
        api_room_leave(conn, c->rooms[0]);
    c->alive = 0;
    sbr_event_disconnect ev = {.struct_size = sizeof ev, .conn = conn, .was_connected = c->connected,
                               .reason = reason, .lost = strcmp(reason, "transport close") == 0};
    fake_notify(SBR_EVENT_DISCONNECT, &ev);
}

void fake_lose(sbr_conn_id conn)
{
    fake_conn_close(conn, "transport close");
    fake_run();
}

void fake_disconnect(sbr_conn_id conn)
{
    fake_close(conn);
    fake_run();
}

void fake_close(sbr_conn_id conn)
{
    fake_conn_close(conn, "client namespace disconnect");
}

/* --- client events -------------------------------------------------------------------- */

static void message_refuse(struct sbr_message *m, const char *reason)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{\"ok\":false,\"error\":\"%s\"}", reason ? reason : "refused");
    m->done = 1;
    m->ack = strdup(buf);
}

/* The next hook of m's chain, as the core runs it: the generic message
 * hooks and the name's filters in registration order, then its handler. */
static const struct fake_hook *message_next(struct sbr_message *m)
{
    while (m->next < n_fake_hooks) {
        const struct fake_hook *h = &fake_hooks[m->next++];
        if (h->id == SBR_EVENT_MESSAGE &&
            (h->kind == FAKE_HOOK_ID || (h->kind == FAKE_HOOK_FILTER && strcmp(h->name, m->event) == 0)))
            return h;
    }
    for (size_t i = 0; !m->handler_done && i < n_fake_hooks; i++) {
        if (fake_hooks[i].kind == FAKE_HOOK_HANDLER && strcmp(fake_hooks[i].name, m->event) == 0) {
            m->handler_done = 1;
            return &fake_hooks[i];
        }
    }
    m->handler_done = 1;
    return NULL;
}

static void message_continue(struct sbr_message *m)
{
    for (const struct fake_hook *h; (h = message_next(m));) {
        struct fake_hook copy = *h;
        int verdict = copy.fn(SBR_EVENT_MESSAGE, &m->ev, copy.ud);
        if (verdict == SBR_PASS)
            continue;
        if (verdict == SBR_REFUSE && !m->done)
            message_refuse(m, m->ev.reason);
        return;
    }
    if (!m->done)
        message_refuse(m, "unknown_event");
}

static int api_message_reply(sbr_message *msg, const char *data_json)
{
    if (msg->done)
        return SBR_ERR_GONE;
    msg->done = 1;
    msg->ack = fake_strdup(data_json);
    return SBR_OK;
}

static int api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason)
{
    if (msg->done)
        return SBR_ERR_GONE;
    if (verdict == SBR_REFUSE)
        message_refuse(msg, reason);
    else
        message_continue(msg);
    return SBR_OK;
}

/* api->msg_arg_*, as the core reads them: a dotted path into the argument
 * `index` of the arguments parsed once. */
static json_t *message_arg(sbr_message *msg, unsigned index, const char *path, int *status)
{
    *status = msg->done ? SBR_ERR_GONE : SBR_ERR_INVALID;
    json_t *v = msg->done ? NULL : json_array_get(msg->args_value, index);
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char key[256];
        if (n == 0 || n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        if (json_is_object(v))
            v = json_object_get(v, key);
        else
            v = json_is_array(v) && strspn(key, "0123456789") == n ? json_array_get(v, strtoul(key, NULL, 10)) : NULL;
        path = dot ? dot + 1 : path + n;
    }
    return v;
}

static int message_copy_out(const char *text, size_t n, char *buf, size_t len)
{
    if (buf && len > n) {
        memcpy(buf, text, n);
        buf[n] = '\0';
    } else if (buf && len > 0) {
        buf[0] = '\0';
    }
    return n > INT_MAX ? SBR_ERR_LIMIT : (int)n;
}

static int api_msg_arg_string(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len)
{
    int status;
    json_t *v = message_arg(msg, index, path, &status);
    if (buf && len > 0)
        buf[0] = '\0';
    if (!json_is_string(v))
        return v ? SBR_ERR_INVALID : status;
    return message_copy_out(json_string_value(v), json_string_length(v), buf, len);
}

static int api_msg_arg_number(sbr_message *msg, unsigned index, const char *path, double *out)
{
    int status;
    json_t *v = message_arg(msg, index, path, &status);
    if (!json_is_number(v) || !out)
        return v ? SBR_ERR_INVALID : status;
    *out = json_number_value(v);
    return SBR_OK;
}

static int api_msg_arg_bool(sbr_message *msg, unsigned index, const char *path, int *out)
{
    int status;
    json_t *v = message_arg(msg, index, path, &status);
    if (!json_is_boolean(v) || !out)
        return v ? SBR_ERR_INVALID : status;
    *out = json_is_true(v);
    return SBR_OK;
}

static int api_msg_arg_json(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len)
{
    int status;
    json_t *v = message_arg(msg, index, path, &status);
    if (buf && len > 0)
        buf[0] = '\0';
    if (!v)
        return status;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int n = text ? message_copy_out(text, strlen(text), buf, len) : SBR_ERR_NOMEM;
    free(text);
    return n;
}

static int api_json_quote(const char *text, char *buf, size_t len)
{
    if (buf && len > 0)
        buf[0] = '\0';
    json_t *s = text ? json_string(text) : NULL;
    char *quoted = s ? json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    int n = quoted ? message_copy_out(quoted, strlen(quoted), buf, len) : SBR_ERR_INVALID;
    free(quoted);
    return n;
}

const char *fake_send(sbr_conn_id conn, const char *event, const char *args_json)
{
    struct sbr_message *m = calloc(1, sizeof *m);
    m->event = strdup(event);
    m->args = strdup(args_json);
    m->args_value = json_loads(args_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    m->ev.struct_size = sizeof m->ev;
    m->ev.conn = conn;
    m->ev.msg = m;
    m->ev.event = m->event;
    m->ev.args_json = m->args;
    m->ev.args_len = strlen(m->args);
    m->ev.wants_ack = 1;
    FAKE_PUSH(messages, m);
    message_continue(m);
    fake_run();
    return m->ack;
}

/* --- the table and the reset -------------------------------------------------------------- */

void fake_conn_api(sbr_api *api)
{
    api->conn_alive = api_conn_alive;
    api->conn_query = api_conn_query;
    api->conn_header = api_conn_header;
    api->conn_remote_addr = api_conn_remote_addr;
    api->conn_set_identity = api_conn_set_identity;
    api->conn_identity = api_conn_identity;
    api->conn_disconnect = api_conn_disconnect;
    api->connect_resume = api_connect_resume;
    api->message_reply = api_message_reply;
    api->message_resume = api_message_resume;
    api->msg_arg_string = api_msg_arg_string;
    api->msg_arg_number = api_msg_arg_number;
    api->msg_arg_bool = api_msg_arg_bool;
    api->msg_arg_json = api_msg_arg_json;
    api->json_quote = api_json_quote;
    api->namespace_add = api_namespace_add;
    api->conn_namespace = api_conn_namespace;
    api->room_join = api_room_join;
    api->room_leave = api_room_leave;
    api->room_contains = api_room_contains;
    api->room_foreach = api_room_foreach;
    api->emit = api_emit;
    api->emit_room = api_emit_room;
    api->conn_end = api_conn_end;
}

void fake_conn_reset(void)
{
    fake_clear_received();
    for (size_t i = 0; i < n_conns; i++) {
        struct fake_conn *c = conns[i];
        for (size_t k = 0; k < c->n_rooms; k++)
            free(c->rooms[k]);
        free(c->rooms);
        if (c->has_identity)
            identity_free(&c->identity);
        free(c->query_token);
        free(c->authorization);
        free(c->auth_json);
        free(c->disconnected);
        free(c);
    }
    n_conns = 0;
    next_conn = 1;
    for (size_t i = 0; i < n_messages; i++) {
        free(messages[i]->event);
        free(messages[i]->args);
        json_decref(messages[i]->args_value);
        free(messages[i]->ack);
        free(messages[i]);
    }
    n_messages = 0;
}
