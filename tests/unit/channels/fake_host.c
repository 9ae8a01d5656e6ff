/* A fake core for unit tests of the chat plugins (see fake_host.h). */
#define _GNU_SOURCE
#include "fake_host.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_API_KEY "unit-test-key"
#define FAKE_MAX_CONFIG 16
#define FAKE_MAX_PARAMS 8

struct sbr_plugin {
    char name[64];
    const sbr_plugin_descriptor *desc;
    void *handle;
    char *keys[FAKE_MAX_CONFIG];
    char *values[FAKE_MAX_CONFIG];
    size_t n_config;
    int loading;
    char error[256];
};

struct sbr_message {
    sbr_conn_id conn;
    char *event;
    char *args;
    sbr_event_message ev;
    size_t next;
    int done;
    char *ack;
};

struct sbr_http_request {
    char *method;
    char *path;
    char *body;
    int with_key;
    char *param_names[FAKE_MAX_PARAMS];
    char *param_values[FAKE_MAX_PARAMS];
    size_t n_params;
    int status;
    char *reply_body;
    char *reply_headers;
};

struct fake_hook { sbr_plugin *owner; enum sbr_event_id id; sbr_hook_fn fn; void *ud; };
struct fake_route { char *method; char *pattern; sbr_http_handler fn; void *ud; };
struct fake_timer { sbr_timer_id id; uint64_t due; uint64_t interval; int active; void (*fn)(void *); void *ud; };
struct fake_entry { char *key; char *field; char *value; uint64_t expires; };
struct fake_sub { char *topic; sbr_bus_message_fn fn; void *ud; };
struct fake_emit { sbr_conn_id conn; char *event; char *data; };

struct fake_conn {
    sbr_conn_id id;
    int alive;
    int connected;
    sbr_identity identity;
    char **rooms;
    size_t n_rooms;
    sbr_event_connect connect_ev;
    size_t connect_next;
    int connect_done;
};

/* A queued callback: a state reply or a bus delivery. */
struct fake_call {
    sbr_state_done_fn done;
    void *ud;
    sbr_state_reply reply;
    char *value;
    char **fields;
    char **values;
    char *topic; /* bus delivery when set */
    char *data;
};

/* Growable arrays of the structs above. */
#define FAKE_ARRAY(type, name) static type *name; static size_t n_##name, cap_##name;
#define FAKE_PUSH(name, item)                                                            \
    do {                                                                                 \
        if (n_##name == cap_##name) {                                                    \
            cap_##name = cap_##name ? cap_##name * 2 : 16;                               \
            name = realloc(name, cap_##name * sizeof *name);                             \
        }                                                                                \
        name[n_##name++] = (item);                                                       \
    } while (0)

FAKE_ARRAY(sbr_plugin *, plugins)
FAKE_ARRAY(struct fake_hook, hooks)
FAKE_ARRAY(struct fake_route, routes)
FAKE_ARRAY(struct fake_timer, timers)
FAKE_ARRAY(struct fake_entry, entries)
FAKE_ARRAY(struct fake_sub, subs)
FAKE_ARRAY(struct fake_emit, emits)
FAKE_ARRAY(struct fake_conn *, conns)
FAKE_ARRAY(struct fake_call *, queue)
FAKE_ARRAY(struct sbr_message *, messages)
FAKE_ARRAY(struct sbr_http_request *, requests)
FAKE_ARRAY(char *, strings)

static uint64_t fake_clock = 1750000000000ull;
static sbr_timer_id fake_next_timer = 1;
static sbr_conn_id fake_next_conn = 1;

uint64_t fake_now(void) { return fake_clock; }

static char *fake_strdup(const char *s) { return s ? strdup(s) : NULL; }

/* --- plugins, config, hooks, timers ------------------------------------- */

static void api_log(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...)
{
    if (level < SBR_LOG_WARN)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%s] ", self ? self->name : "?");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void api_set_error(sbr_plugin *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof self->error, fmt, ap);
    va_end(ap);
}

static const char *api_config_string(sbr_plugin *self, const char *key)
{
    for (size_t i = 0; i < self->n_config; i++)
        if (strcmp(self->keys[i], key) == 0)
            return self->values[i];
    return NULL;
}
static int64_t api_config_int(sbr_plugin *self, const char *key)
{
    const char *v = api_config_string(self, key);
    return v ? strtoll(v, NULL, 10) : 0;
}
static int api_config_bool(sbr_plugin *self, const char *key)
{
    const char *v = api_config_string(self, key);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}
static double api_config_double(sbr_plugin *self, const char *key)
{
    const char *v = api_config_string(self, key);
    return v ? strtod(v, NULL) : 0;
}

static int api_hook_register(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(hooks, ((struct fake_hook){self, id, fn, ud}));
    return SBR_OK;
}

static sbr_timer_id api_timer_start(sbr_plugin *self, uint64_t delay_ms, int repeat, void (*fn)(void *), void *ud)
{
    struct fake_timer t = {fake_next_timer++, fake_clock + delay_ms, repeat ? (delay_ms ? delay_ms : 1) : 0, 1, fn, ud};
    FAKE_PUSH(timers, t);
    return t.id;
}

static void api_timer_stop(sbr_plugin *self, sbr_timer_id id)
{
    for (size_t i = 0; i < n_timers; i++)
        if (timers[i].id == id)
            timers[i].active = 0;
}

static uint64_t api_now_ms(void) { return fake_clock; }

/* --- HTTP ------------------------------------------------------------------ */

static int api_http_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(routes, ((struct fake_route){strdup(method), strdup(pattern), fn, ud}));
    return SBR_OK;
}
static const char *api_http_method(sbr_http_request *req) { return req->method; }
static const char *api_http_path(sbr_http_request *req) { return req->path; }
static const char *api_http_param(sbr_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}
static const char *api_http_header(sbr_http_request *req, const char *name)
{
    return strcasecmp(name, "authorization") == 0 && req->with_key ? "Bearer " FAKE_API_KEY : NULL;
}
static const char *api_http_body(sbr_http_request *req, size_t *len)
{
    *len = req->body ? strlen(req->body) : 0;
    return req->body;
}
static int api_http_reply(sbr_http_request *req, int status, const char *json_body, const char *extra_headers)
{
    if (req->status)
        return SBR_ERR_GONE;
    req->status = status;
    req->reply_body = fake_strdup(json_body);
    req->reply_headers = fake_strdup(extra_headers);
    return SBR_OK;
}
static int api_http_check_api_key(sbr_http_request *req) { return req->with_key; }

/* --- connections, messages, rooms ------------------------------------------ */

static struct fake_conn *fake_conn_find(sbr_conn_id id)
{
    for (size_t i = 0; i < n_conns; i++)
        if (conns[i]->id == id)
            return conns[i];
    return NULL;
}
static struct fake_conn *fake_conn_live(sbr_conn_id id)
{
    struct fake_conn *c = fake_conn_find(id);
    return c && c->alive ? c : NULL;
}

static int api_conn_alive(sbr_conn_id conn) { return fake_conn_live(conn) != NULL; }
static const char *api_conn_query(sbr_conn_id conn, const char *name) { return NULL; }
static const char *api_conn_header(sbr_conn_id conn, const char *name) { return NULL; }
static const char *api_conn_remote_addr(sbr_conn_id conn) { return "127.0.0.1"; }
static int api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity) { return SBR_ERR_INVALID; }
static const sbr_identity *api_conn_identity(sbr_conn_id conn)
{
    struct fake_conn *c = fake_conn_live(conn);
    return c ? &c->identity : NULL;
}
static int api_conn_disconnect(sbr_conn_id conn, const char *reason) { return SBR_OK; }

static void fake_connect_continue(struct fake_conn *c);

static int api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason)
{
    struct fake_conn *c = fake_conn_live(conn);
    if (!c || c->connect_done)
        return SBR_ERR_GONE;
    if (verdict == SBR_REFUSE) {
        c->connect_done = 1;
        return SBR_OK;
    }
    fake_connect_continue(c);
    return SBR_OK;
}

static void fake_message_answer(struct sbr_message *m, const char *json)
{
    m->done = 1;
    m->ack = strdup(json);
}

static void fake_message_continue(struct sbr_message *m)
{
    while (m->next < n_hooks) {
        struct fake_hook h = hooks[m->next++];
        if (h.id != SBR_EVENT_MESSAGE)
            continue;
        int verdict = h.fn(SBR_EVENT_MESSAGE, &m->ev, h.ud);
        if (verdict == SBR_PASS)
            continue;
        if (verdict == SBR_REFUSE && !m->done) {
            char buf[256];
            snprintf(buf, sizeof buf, "{\"ok\":false,\"error\":\"%s\"}", m->ev.reason ? m->ev.reason : "refused");
            fake_message_answer(m, buf);
        }
        return;
    }
    if (!m->done)
        fake_message_answer(m, "{\"ok\":false,\"error\":\"unknown_event\"}");
}

static int api_message_reply(sbr_message *msg, const char *data_json)
{
    if (msg->done)
        return SBR_ERR_GONE;
    fake_message_answer(msg, data_json);
    return SBR_OK;
}

static int api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason)
{
    if (msg->done)
        return SBR_ERR_GONE;
    if (verdict == SBR_REFUSE) {
        msg->ev.reason = reason;
        char buf[256];
        snprintf(buf, sizeof buf, "{\"ok\":false,\"error\":\"%s\"}", reason ? reason : "refused");
        fake_message_answer(msg, buf);
        return SBR_OK;
    }
    fake_message_continue(msg);
    return SBR_OK;
}

static int api_namespace_add(sbr_plugin *self, const char *nsp) { return SBR_ERR_STATE; }
static const char *api_conn_namespace(sbr_conn_id conn) { return fake_conn_live(conn) ? "/" : NULL; }

static int api_room_join(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = fake_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (!room || !*room || strlen(room) > 255)
        return SBR_ERR_INVALID;
    for (size_t i = 0; i < c->n_rooms; i++)
        if (strcmp(c->rooms[i], room) == 0)
            return SBR_OK;
    c->rooms = realloc(c->rooms, (c->n_rooms + 1) * sizeof *c->rooms);
    c->rooms[c->n_rooms++] = strdup(room);
    return SBR_OK;
}

static int api_room_leave(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = fake_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    for (size_t i = 0; i < c->n_rooms; i++) {
        if (strcmp(c->rooms[i], room) == 0) {
            free(c->rooms[i]);
            c->rooms[i] = c->rooms[--c->n_rooms];
            return SBR_OK;
        }
    }
    return SBR_OK;
}

static int api_room_contains(sbr_conn_id conn, const char *room)
{
    struct fake_conn *c = fake_conn_live(conn);
    for (size_t i = 0; c && i < c->n_rooms; i++)
        if (strcmp(c->rooms[i], room) == 0)
            return 1;
    return 0;
}

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
    if (!fake_conn_live(conn))
        return SBR_ERR_GONE;
    FAKE_PUSH(emits, ((struct fake_emit){conn, strdup(event), fake_strdup(data_json)}));
    return SBR_OK;
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

/* --- state and bus ------------------------------------------------------------ */

static int fake_live(const struct fake_entry *e) { return e->expires == 0 || e->expires > fake_clock; }

static struct fake_entry *fake_entry_find(const char *key, const char *field)
{
    for (size_t i = 0; i < n_entries; i++) {
        struct fake_entry *e = &entries[i];
        if (strcmp(e->key, key) != 0 || (field == NULL) != (e->field == NULL) ||
            (field && strcmp(e->field, field) != 0))
            continue;
        if (fake_live(e))
            return e;
        /* Expired: drop it. */
        free(e->key);
        free(e->field);
        free(e->value);
        entries[i] = entries[--n_entries];
        return NULL;
    }
    return NULL;
}

static void fake_entry_set(const char *key, const char *field, const char *value, uint64_t ttl_ms)
{
    struct fake_entry *e = fake_entry_find(key, field);
    if (!e) {
        FAKE_PUSH(entries, ((struct fake_entry){strdup(key), fake_strdup(field), NULL, 0}));
        e = &entries[n_entries - 1];
    }
    free(e->value);
    e->value = strdup(value);
    e->expires = ttl_ms ? fake_clock + ttl_ms : 0;
}

static void fake_entry_del(struct fake_entry *e)
{
    free(e->key);
    free(e->field);
    free(e->value);
    *e = entries[--n_entries];
}

static int64_t fake_map_live(const char *key)
{
    int64_t n = 0;
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].field && strcmp(entries[i].key, key) == 0 && fake_live(&entries[i]))
            n++;
    return n;
}

static struct fake_call *fake_queue(sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = calloc(1, sizeof *call);
    call->done = done;
    call->ud = ud;
    call->reply.struct_size = sizeof call->reply;
    call->reply.status = SBR_OK;
    FAKE_PUSH(queue, call);
    return call;
}

static int api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    char *copy = strndup(value, len);
    fake_entry_set(key, NULL, copy, ttl_ms);
    free(copy);
    fake_queue(done, ud);
    return SBR_OK;
}

static int api_kv_get(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_entry *e = fake_entry_find(key, NULL);
    struct fake_call *call = fake_queue(done, ud);
    if (e) {
        call->value = strdup(e->value);
        call->reply.found = 1;
        call->reply.value = call->value;
        call->reply.value_len = strlen(call->value);
    }
    return SBR_OK;
}

static int api_kv_del(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_entry *e = fake_entry_find(key, NULL);
    struct fake_call *call = fake_queue(done, ud);
    if (e) {
        fake_entry_del(e);
        call->reply.changed = 1;
    }
    return SBR_OK;
}

static int api_reserve(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    struct fake_entry *e = fake_entry_find(key, NULL);
    struct fake_call *call = fake_queue(done, ud);
    if (e) {
        call->reply.remaining_ms = e->expires ? (int64_t)(e->expires - fake_clock) : INT64_MAX;
    } else {
        fake_entry_set(key, NULL, "1", ttl_ms);
        call->reply.acquired = 1;
    }
    return SBR_OK;
}

static int api_map_set(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done,
                       void *ud)
{
    int existed = fake_entry_find(key, field) != NULL;
    fake_entry_set(key, field, value, ttl_ms);
    struct fake_call *call = fake_queue(done, ud);
    call->reply.changed = !existed;
    call->reply.count = fake_map_live(key);
    return SBR_OK;
}

static int api_map_del(const char *key, const char *field, sbr_state_done_fn done, void *ud)
{
    struct fake_entry *e = fake_entry_find(key, field);
    if (e)
        fake_entry_del(e);
    struct fake_call *call = fake_queue(done, ud);
    call->reply.changed = e != NULL;
    call->reply.count = fake_map_live(key);
    return SBR_OK;
}

static int api_map_get_all(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = fake_queue(done, ud);
    size_t n = (size_t)fake_map_live(key);
    call->fields = calloc(n + 1, sizeof *call->fields);
    call->values = calloc(n + 1, sizeof *call->values);
    size_t k = 0;
    for (size_t i = 0; i < n_entries && k < n; i++) {
        if (entries[i].field && strcmp(entries[i].key, key) == 0 && fake_live(&entries[i])) {
            call->fields[k] = strdup(entries[i].field);
            call->values[k] = strdup(entries[i].value);
            k++;
        }
    }
    call->reply.n = k;
    call->reply.fields = (const char *const *)call->fields;
    call->reply.values = (const char *const *)call->values;
    return SBR_OK;
}

static int api_map_count(const char *key, sbr_state_done_fn done, void *ud)
{
    fake_queue(done, ud)->reply.count = fake_map_live(key);
    return SBR_OK;
}

static int fake_bus = SBR_BUS_LOCAL;

static int api_bus_state(void) { return fake_bus; }

static int api_bus_publish(const char *topic, const char *data, size_t len)
{
    struct fake_call *call = fake_queue(NULL, NULL);
    call->topic = strdup(topic);
    call->data = strndup(data, len);
    return SBR_OK;
}

static int api_bus_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(subs, ((struct fake_sub){strdup(topic), fn, ud}));
    return SBR_OK;
}

static int api_metric(sbr_plugin *self, const char *name, const char *labels, double v) { return SBR_OK; }

static const sbr_api fake_api = {
    .abi_version = SBR_ABI_VERSION,
    .struct_size = sizeof(sbr_api),
    .log = api_log,
    .set_error = api_set_error,
    .config_string = api_config_string,
    .config_int = api_config_int,
    .config_bool = api_config_bool,
    .config_double = api_config_double,
    .hook_register = api_hook_register,
    .timer_start = api_timer_start,
    .timer_stop = api_timer_stop,
    .now_ms = api_now_ms,
    .http_route = api_http_route,
    .http_method = api_http_method,
    .http_path = api_http_path,
    .http_param = api_http_param,
    .http_header = api_http_header,
    .http_body = api_http_body,
    .http_reply = api_http_reply,
    .http_check_api_key = api_http_check_api_key,
    .conn_alive = api_conn_alive,
    .conn_query = api_conn_query,
    .conn_header = api_conn_header,
    .conn_remote_addr = api_conn_remote_addr,
    .conn_set_identity = api_conn_set_identity,
    .conn_identity = api_conn_identity,
    .conn_disconnect = api_conn_disconnect,
    .connect_resume = api_connect_resume,
    .message_reply = api_message_reply,
    .message_resume = api_message_resume,
    .namespace_add = api_namespace_add,
    .conn_namespace = api_conn_namespace,
    .room_join = api_room_join,
    .room_leave = api_room_leave,
    .room_contains = api_room_contains,
    .room_foreach = api_room_foreach,
    .emit = api_emit,
    .emit_room = api_emit_room,
    .bus_state = api_bus_state,
    .bus_publish = api_bus_publish,
    .bus_subscribe = api_bus_subscribe,
    .kv_set = api_kv_set,
    .kv_get = api_kv_get,
    .kv_del = api_kv_del,
    .reserve = api_reserve,
    .map_set = api_map_set,
    .map_del = api_map_del,
    .map_get_all = api_map_get_all,
    .map_count = api_map_count,
    .metric_add = api_metric,
    .metric_set = api_metric,
};

/* --- the loop ------------------------------------------------------------------ */

static void fake_call_free(struct fake_call *call)
{
    for (size_t i = 0; call->fields && call->fields[i]; i++)
        free(call->fields[i]);
    for (size_t i = 0; call->values && call->values[i]; i++)
        free(call->values[i]);
    free(call->fields);
    free(call->values);
    free(call->value);
    free(call->topic);
    free(call->data);
    free(call);
}

void fake_run(void)
{
    /* Bounded: a plugin that queues forever fails the test instead of hanging it. */
    for (int rounds = 0; n_queue > 0 && rounds < 100000; rounds++) {
        struct fake_call *call = queue[0];
        memmove(queue, queue + 1, (n_queue - 1) * sizeof *queue);
        n_queue--;
        if (call->topic) {
            for (size_t i = 0; i < n_subs; i++)
                if (strcmp(subs[i].topic, call->topic) == 0)
                    subs[i].fn(call->topic, call->data, strlen(call->data), subs[i].ud);
        } else if (call->done) {
            call->done(&call->reply, call->ud);
        }
        fake_call_free(call);
    }
}

void fake_advance(uint64_t ms)
{
    uint64_t target = fake_clock + ms;
    for (;;) {
        fake_run();
        struct fake_timer *next = NULL;
        for (size_t i = 0; i < n_timers; i++)
            if (timers[i].active && timers[i].due <= target && (!next || timers[i].due < next->due))
                next = &timers[i];
        if (!next)
            break;
        fake_clock = next->due;
        void (*fn)(void *) = next->fn;
        void *ud = next->ud;
        if (next->interval)
            next->due += next->interval;
        else
            next->active = 0;
        fn(ud);
    }
    fake_clock = target;
    fake_run();
}

/* --- the test's side ------------------------------------------------------------ */

int fake_load(const char *name, const char *const *config)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/plugins/%s.so", SBR_TEST_BUILD_DIR, name);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return -1;
    }
    sbr_plugin_entry_fn entry = (sbr_plugin_entry_fn)dlsym(handle, SBR_ENTRY_SYMBOL);
    const sbr_plugin_descriptor *desc = entry ? entry() : NULL;
    if (!desc || desc->abi_version != SBR_ABI_VERSION) {
        fprintf(stderr, "%s: no descriptor or another ABI\n", path);
        dlclose(handle);
        return -1;
    }
    sbr_plugin *p = calloc(1, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->desc = desc;
    p->handle = handle;
    for (const sbr_config_key *k = desc->config; k && k->name && p->n_config < FAKE_MAX_CONFIG; k++) {
        const char *value = k->default_value ? k->default_value : "";
        for (size_t i = 0; config && config[i] && config[i + 1]; i += 2)
            if (strcmp(config[i], k->name) == 0)
                value = config[i + 1];
        p->keys[p->n_config] = strdup(k->name);
        p->values[p->n_config++] = strdup(value);
    }
    FAKE_PUSH(plugins, p);
    p->loading = 1;
    int rc = desc->on_load(p, &fake_api);
    p->loading = 0;
    if (rc != 0)
        fprintf(stderr, "%s: on_load failed: %s\n", name, p->error);
    fake_run();
    return rc == 0 ? 0 : -1;
}

static void fake_notify(enum sbr_event_id id, void *event)
{
    for (size_t i = 0; i < n_hooks; i++)
        if (hooks[i].id == id)
            hooks[i].fn(id, event, hooks[i].ud);
}

static void fake_connect_continue(struct fake_conn *c)
{
    while (c->connect_next < n_hooks) {
        struct fake_hook h = hooks[c->connect_next++];
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
    sbr_event_connected ev = {.struct_size = sizeof ev, .conn = c->id};
    fake_notify(SBR_EVENT_CONNECTED, &ev);
}

static char **fake_list_copy(const char *const *list, size_t *n)
{
    *n = 0;
    while (list && list[*n])
        (*n)++;
    char **copy = calloc(*n + 1, sizeof *copy);
    for (size_t i = 0; i < *n; i++)
        copy[i] = strdup(list[i]);
    return copy;
}

sbr_conn_id fake_connect(const char *user_id, const char *const *servers, const char *const *moderates)
{
    struct fake_conn *c = calloc(1, sizeof *c);
    c->id = fake_next_conn++;
    c->alive = 1;
    c->identity.struct_size = sizeof c->identity;
    c->identity.user_id = strdup(user_id);
    c->identity.servers = (const char *const *)fake_list_copy(servers, &c->identity.n_servers);
    c->identity.moderates = (const char *const *)fake_list_copy(moderates, &c->identity.n_moderates);
    c->connect_ev.struct_size = sizeof c->connect_ev;
    c->connect_ev.conn = c->id;
    c->connect_ev.nsp = "/";
    FAKE_PUSH(conns, c);
    /* As auth-jwt does at connect. */
    char room[300];
    snprintf(room, sizeof room, "user:%s", user_id);
    api_room_join(c->id, room);
    for (size_t i = 0; i < c->identity.n_servers; i++) {
        snprintf(room, sizeof room, "server:%s", c->identity.servers[i]);
        api_room_join(c->id, room);
    }
    fake_connect_continue(c);
    fake_run();
    return c->connected ? c->id : 0;
}

void fake_bus_change(enum sbr_bus_state state, int lose_state)
{
    if (lose_state)
        while (n_entries)
            fake_entry_del(&entries[0]);
    sbr_event_bus_state ev = {.struct_size = sizeof ev, .state = state, .previous = fake_bus, .detail = "test"};
    fake_bus = state;
    fake_notify(SBR_EVENT_BUS_STATE, &ev);
    fake_run();
}

void fake_disconnect(sbr_conn_id conn)
{
    struct fake_conn *c = fake_conn_live(conn);
    if (!c)
        return;
    while (c->n_rooms)
        api_room_leave(conn, c->rooms[0]);
    c->alive = 0;
    sbr_event_disconnect ev = {.struct_size = sizeof ev, .conn = conn, .was_connected = c->connected,
                               .reason = "client namespace disconnect"};
    fake_notify(SBR_EVENT_DISCONNECT, &ev);
    fake_run();
}

int fake_in_room(sbr_conn_id conn, const char *room) { return api_room_contains(conn, room); }

const char *fake_send(sbr_conn_id conn, const char *event, const char *args_json)
{
    struct sbr_message *m = calloc(1, sizeof *m);
    m->conn = conn;
    m->event = strdup(event);
    m->args = strdup(args_json);
    m->ev.struct_size = sizeof m->ev;
    m->ev.conn = conn;
    m->ev.msg = m;
    m->ev.event = m->event;
    m->ev.args_json = m->args;
    m->ev.args_len = strlen(m->args);
    m->ev.wants_ack = 1;
    FAKE_PUSH(messages, m);
    fake_message_continue(m);
    fake_run();
    return m->ack;
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

/* Match "/a/{x}/b" against "/a/1/b", filling the request's params. */
static int fake_route_match(const char *pattern, const char *path, struct sbr_http_request *req)
{
    req->n_params = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (sl == 0 || req->n_params == FAKE_MAX_PARAMS)
                return 0;
            req->param_names[req->n_params] = strndup(pattern + 1, pl - 2);
            req->param_values[req->n_params++] = strndup(path, sl);
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == 0 && *path == 0;
}

int fake_http(const char *method, const char *path, const char *body, int with_key, const char **reply_body,
              const char **reply_headers)
{
    struct sbr_http_request *req = calloc(1, sizeof *req);
    req->method = strdup(method);
    req->path = strdup(path);
    req->body = fake_strdup(body);
    req->with_key = with_key;
    FAKE_PUSH(requests, req);
    for (size_t i = 0; i < n_routes; i++) {
        if (strcmp(routes[i].method, method) == 0 && fake_route_match(routes[i].pattern, path, req)) {
            routes[i].fn(req, routes[i].ud);
            break;
        }
        for (size_t k = 0; k < req->n_params; k++) {
            free(req->param_names[k]);
            free(req->param_values[k]);
        }
        req->n_params = 0;
    }
    fake_run();
    if (reply_body)
        *reply_body = req->reply_body;
    if (reply_headers)
        *reply_headers = req->reply_headers;
    return req->status;
}

size_t fake_map_count(const char *key) { return (size_t)fake_map_live(key); }

const char *fake_map_value(const char *key, const char *field)
{
    struct fake_entry *e = fake_entry_find(key, field);
    return e ? e->value : NULL;
}

void fake_kv_put(const char *key, const char *value) { fake_entry_set(key, NULL, value, 0); }

const char *fake_kv_value(const char *key)
{
    struct fake_entry *e = fake_entry_find(key, NULL);
    return e ? e->value : NULL;
}

void fake_reset(void)
{
    for (size_t i = n_plugins; i > 0; i--)
        if (plugins[i - 1]->desc->on_unload)
            plugins[i - 1]->desc->on_unload(plugins[i - 1]);
    for (size_t i = 0; i < n_plugins; i++) {
        dlclose(plugins[i]->handle);
        for (size_t k = 0; k < plugins[i]->n_config; k++) {
            free(plugins[i]->keys[k]);
            free(plugins[i]->values[k]);
        }
        free(plugins[i]);
    }
    for (size_t i = 0; i < n_subs; i++)
        free(subs[i].topic);
    n_plugins = n_hooks = n_subs = n_timers = 0;
    for (size_t i = 0; i < n_routes; i++) {
        free(routes[i].method);
        free(routes[i].pattern);
    }
    n_routes = 0;
    while (n_entries)
        fake_entry_del(&entries[0]);
    for (size_t i = 0; i < n_queue; i++)
        fake_call_free(queue[i]);
    n_queue = 0;
    fake_clear_received();
    for (size_t i = 0; i < n_conns; i++) {
        struct fake_conn *c = conns[i];
        for (size_t k = 0; k < c->n_rooms; k++)
            free(c->rooms[k]);
        free(c->rooms);
        free((char *)c->identity.user_id);
        for (size_t k = 0; k < c->identity.n_servers; k++)
            free((char *)c->identity.servers[k]);
        for (size_t k = 0; k < c->identity.n_moderates; k++)
            free((char *)c->identity.moderates[k]);
        free((void *)c->identity.servers);
        free((void *)c->identity.moderates);
        free(c);
    }
    n_conns = 0;
    for (size_t i = 0; i < n_messages; i++) {
        free(messages[i]->event);
        free(messages[i]->args);
        free(messages[i]->ack);
        free(messages[i]);
    }
    n_messages = 0;
    for (size_t i = 0; i < n_requests; i++) {
        struct sbr_http_request *r = requests[i];
        for (size_t k = 0; k < r->n_params; k++) {
            free(r->param_names[k]);
            free(r->param_values[k]);
        }
        free(r->method);
        free(r->path);
        free(r->body);
        free(r->reply_body);
        free(r->reply_headers);
        free(r);
    }
    n_requests = 0;
    for (size_t i = 0; i < n_strings; i++)
        free(strings[i]);
    n_strings = 0;
    fake_bus = SBR_BUS_LOCAL;
}

const char *fake_get(const char *text, const char *member)
{
    json_t *doc = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    json_t *value = json_object_get(doc, member);
    char *out = NULL;
    if (json_is_string(value))
        out = strdup(json_string_value(value));
    else if (value)
        out = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (out)
        FAKE_PUSH(strings, out);
    return out;
}
