/* Presence in shared state: connect, disconnect, status changes, refresh. */
#include "presence.h"
#include "chat_json.h"

#include <stdlib.h>
#include <string.h>

static const char *const presence_statuses[] = {"online", "idle", "dnd", "invisible"};

int presence_status_valid(const char *status)
{
    for (size_t i = 0; i < sizeof presence_statuses / sizeof *presence_statuses; i++)
        if (strcmp(status, presence_statuses[i]) == 0)
            return 1;
    return 0;
}

const char *presence_status_shown(const char *status)
{
    return strcmp(status, "invisible") == 0 ? "offline" : status;
}

void presence_announce_one(struct presence *p, const char *server_id, const char *user_id, const char *shown)
{
    char *room = chat_format("server:%s", server_id);
    struct chat_json update;
    chat_json_open(&update, p->api);
    chat_json_string(&update, "server_id", server_id);
    chat_json_string(&update, "user_id", user_id);
    chat_json_string(&update, "status", shown);
    char *text = chat_json_close(&update);
    if (room && text && p->api->emit_room(room, "presence_update", text, 0, 0) == SBR_OK)
        p->api->metric_add(p->self, "superbot_presence_updates_total", NULL, 1);
    free(room);
    free(text);
}

void presence_announce(struct presence *p, const struct presence_conn *rec, const char *shown)
{
    for (size_t i = 0; i < rec->n_servers; i++)
        presence_announce_one(p, rec->servers[i], rec->user_id, shown);
}

void presence_publish_servers(struct presence *p, const struct presence_conn *rec, uint64_t ttl_ms)
{
    int hidden = strcmp(rec->status, "invisible") == 0;
    for (size_t i = 0; i < rec->n_servers; i++) {
        char *key = chat_format("presence:server:%s", rec->servers[i]);
        if (key && hidden)
            p->api->map_del(key, rec->user_id, chat_state_ignore, NULL);
        else if (key)
            p->api->map_set(key, rec->user_id, rec->status, ttl_ms, chat_state_ignore, NULL);
        free(key);
    }
}

void presence_publish_conn(struct presence *p, const struct presence_conn *rec, uint64_t ttl_ms)
{
    char *key = chat_format("presence:conns:%s", rec->user_id);
    if (key)
        p->api->map_set(key, rec->field, rec->status, ttl_ms, chat_state_ignore, NULL);
    free(key);
}

struct presence_refresh {
    struct presence_conn **recs;
    size_t n;
};

static void presence_refresh_conn(struct presence *p, struct presence_conn *rec, void *arg)
{
    struct presence_refresh *refresh = arg;
    presence_publish_conn(p, rec, p->ttl_ms);
    if (refresh->recs)
        refresh->recs[refresh->n++] = rec;
    else if (strcmp(rec->status, "invisible") != 0)
        presence_publish_servers(p, rec, p->ttl_ms);
}

static int presence_same_servers(const struct presence_conn *a, const struct presence_conn *b)
{
    if (a->n_servers != b->n_servers)
        return 0;
    for (size_t i = 0; i < a->n_servers; i++)
        if (strcmp(a->servers[i], b->servers[i]) != 0)
            return 0;
    return 1;
}

static int presence_by_user(const void *a, const void *b)
{
    return strcmp((*(struct presence_conn *const *)a)->user_id, (*(struct presence_conn *const *)b)->user_id);
}

void presence_refresh_all(struct presence *p, int announce)
{
    /* Every connection refreshes its own field; the server maps once per
     * user and membership list, however many tabs it has here (they share
     * one status). */
    struct presence_refresh refresh = {p->count ? calloc(p->count, sizeof *refresh.recs) : NULL, 0};
    presence_table_foreach(p, presence_refresh_conn, &refresh);
    if (!refresh.recs)
        return;
    qsort(refresh.recs, refresh.n, sizeof *refresh.recs, presence_by_user);
    size_t first = 0; /* the first connection of the current user */
    for (size_t i = 0; i < refresh.n; i++) {
        struct presence_conn *rec = refresh.recs[i];
        if (strcmp(refresh.recs[first]->user_id, rec->user_id) != 0)
            first = i;
        if (i == first)
            presence_user_listed(p, rec);
        int repeat = i != first && presence_same_servers(refresh.recs[first], rec);
        if (!repeat && strcmp(rec->status, "invisible") != 0) {
            presence_publish_servers(p, rec, p->ttl_ms);
            if (announce)
                presence_announce(p, rec, rec->status);
        }
    }
    free(refresh.recs);
}

/* 1 if a connection before rec in its user chain is of the same user with
 * the same memberships (its refresh covered rec's server maps already). */
static int presence_refreshed_before(const struct presence_conn *chain, const struct presence_conn *rec, int *seen_user)
{
    *seen_user = 0;
    for (const struct presence_conn *r = chain; r != rec; r = r->user_next) {
        if (strcmp(r->user_id, rec->user_id) != 0)
            continue;
        *seen_user = 1;
        if (presence_same_servers(r, rec))
            return 1;
    }
    return 0;
}

void presence_refresh_slice(struct presence *p)
{
    size_t from = (size_t)p->refresh_slice * PRESENCE_BUCKETS / PRESENCE_REFRESH_SLICES;
    size_t to = (size_t)(p->refresh_slice + 1) * PRESENCE_BUCKETS / PRESENCE_REFRESH_SLICES;
    p->refresh_slice = (p->refresh_slice + 1) % PRESENCE_REFRESH_SLICES;
    for (size_t b = from; b < to; b++) {
        for (struct presence_conn *rec = p->users[b]; rec; rec = rec->user_next) {
            presence_publish_conn(p, rec, p->ttl_ms);
            int seen_user;
            if (presence_refreshed_before(p->users[b], rec, &seen_user))
                continue;
            if (!seen_user)
                presence_user_listed(p, rec);
            if (strcmp(rec->status, "invisible") != 0)
                presence_publish_servers(p, rec, p->ttl_ms);
        }
    }
}

static void presence_reaped_check(const sbr_state_reply *reply, void *userdata)
{
    struct presence *p = userdata;
    int reaped = reply->status == SBR_OK && reply->found;
    if (reaped) {
        char *key = chat_format("presence:reap:%s", p->worker);
        if (key)
            p->api->kv_del(key, chat_state_ignore, NULL);
        free(key);
        p->api->log(p->self, SBR_LOG_WARN, "the other workers took this one for dead while the backend was away: "
                                           "announcing its users online again");
    }
    presence_refresh_all(p, reaped);
}

void presence_recovered(struct presence *p)
{
    p->connected_at = p->api->now_ms();
    presence_heartbeat(p);
    char *key = chat_format("presence:reap:%s", p->worker);
    if (!key || p->api->kv_get(key, presence_reaped_check, p) != SBR_OK)
        presence_refresh_all(p, 0);
    free(key);
}

/* --- connect ------------------------------------------------------------- */

struct presence_pending {
    struct presence *p;
    sbr_conn_id conn;
};

/* A later connection takes the status the user already has elsewhere. */
static void presence_inherited(const sbr_state_reply *reply, void *userdata)
{
    struct presence_pending *pending = userdata;
    struct presence *p = pending->p;
    struct presence_conn *rec = presence_table_find(p, pending->conn);
    for (size_t i = 0; rec && reply->status == SBR_OK && i < reply->n; i++) {
        const char *status = reply->values[i];
        if (strcmp(reply->fields[i], rec->field) != 0 && presence_status_valid(status)) {
            if (strcmp(status, rec->status) != 0) {
                strcpy(rec->status, status);
                presence_publish_conn(p, rec, p->ttl_ms);
            }
            break;
        }
    }
    p->api->connect_resume(pending->conn, SBR_PASS, NULL);
    free(pending);
}

static void presence_connected(const sbr_state_reply *reply, void *userdata)
{
    struct presence_pending *pending = userdata;
    struct presence *p = pending->p;
    struct presence_conn *rec = presence_table_find(p, pending->conn);
    if (rec && reply->status == SBR_OK)
        presence_user_listed(p, rec);
    if (rec && reply->status == SBR_OK && reply->count == 1 && reply->changed) {
        /* The user's first live connection anywhere: online, before `ready`. */
        presence_publish_servers(p, rec, p->ttl_ms);
        presence_announce(p, rec, "online");
    } else if (rec && reply->status == SBR_OK && reply->count > 1) {
        char *key = chat_format("presence:conns:%s", rec->user_id);
        int rc = key ? p->api->map_get_all(key, presence_inherited, pending) : SBR_ERR_NOMEM;
        free(key);
        if (rc == SBR_OK)
            return;
    }
    p->api->connect_resume(pending->conn, SBR_PASS, NULL);
    free(pending);
}

int presence_on_connect(struct presence *p, const sbr_event_connect *event)
{
    const sbr_identity *who = p->api->conn_identity(event->conn);
    if (!who || !who->user_id || (event->nsp && strcmp(event->nsp, "/") != 0))
        return SBR_PASS;
    struct presence_conn *rec = presence_table_find(p, event->conn);
    if (!rec)
        rec = presence_table_add(p, event->conn, who);
    struct presence_pending *pending = rec ? malloc(sizeof *pending) : NULL;
    char *key = rec ? chat_format("presence:conns:%s", rec->user_id) : NULL;
    int rc = SBR_ERR_NOMEM;
    if (pending && key) {
        pending->p = p;
        pending->conn = event->conn;
        rc = p->api->map_set(key, rec->field, rec->status, p->ttl_ms, presence_connected, pending);
    }
    free(key);
    if (rc != SBR_OK) {
        /* Presence is best effort: the connection goes on without it. */
        free(pending);
        return SBR_PASS;
    }
    return SBR_PENDING;
}

/* --- disconnect ---------------------------------------------------------- */

struct presence_gone {
    struct presence *p;
    struct presence_conn *rec;
    struct presence_gone *prev, *next; /* in p->gone */
};

static void presence_gone_unlink(struct presence_gone *gone)
{
    if (gone->prev)
        gone->prev->next = gone->next;
    else
        gone->p->gone = gone->next;
    if (gone->next)
        gone->next->prev = gone->prev;
}

void presence_gone_clear(struct presence *p)
{
    while (p->gone) {
        struct presence_gone *gone = p->gone;
        presence_gone_unlink(gone);
        presence_conn_free(gone->rec);
        free(gone);
    }
}

static void presence_disconnected(const sbr_state_reply *reply, void *userdata)
{
    struct presence_gone *gone = userdata;
    struct presence *p = gone->p;
    struct presence_conn *rec = gone->rec;
    presence_gone_unlink(gone);
    if (reply->status == SBR_OK && reply->count == 0)
        presence_user_unlisted(p, rec->user_id);
    if (reply->status == SBR_OK && reply->count == 0 && reply->changed) {
        /* The user's last live connection anywhere: offline. */
        for (size_t i = 0; i < rec->n_servers; i++) {
            char *key = chat_format("presence:server:%s", rec->servers[i]);
            if (key)
                p->api->map_del(key, rec->user_id, chat_state_ignore, NULL);
            free(key);
        }
        /* Others already see an invisible user as offline. */
        if (strcmp(rec->status, "invisible") != 0) {
            presence_announce(p, rec, "offline");
            if (presence_doubt_keep(p, rec))
                rec = NULL;
        }
    }
    presence_conn_free(rec);
    free(gone);
}

void presence_on_disconnect(struct presence *p, sbr_conn_id conn, int lost)
{
    struct presence_conn *rec = presence_table_find(p, conn);
    if (!rec)
        return;
    presence_table_unlink(p, rec);
    /* A lost connection's client is usually back within seconds. */
    if (lost && p->grace_ms && presence_grace_start(p, rec) == 0)
        return;
    presence_conn_remove(p, rec);
}

void presence_conn_remove(struct presence *p, struct presence_conn *rec)
{
    struct presence_gone *gone = malloc(sizeof *gone);
    char *key = chat_format("presence:conns:%s", rec->user_id);
    int rc = SBR_ERR_NOMEM;
    if (gone && key) {
        *gone = (struct presence_gone){.p = p, .rec = rec, .next = p->gone};
        if (p->gone)
            p->gone->prev = gone;
        p->gone = gone;
        rc = p->api->map_del(key, rec->field, presence_disconnected, gone);
    }
    free(key);
    if (rc != SBR_OK) {
        /* The entry expires by itself after the TTL. */
        if (gone && key)
            presence_gone_unlink(gone);
        free(gone);
        presence_conn_free(rec);
    }
}

/* --- status changes -------------------------------------------------------- */

struct presence_status_change {
    const char *user_id;
    const char *status;
};

static void presence_apply_status(struct presence *p, struct presence_conn *rec, void *arg)
{
    const struct presence_status_change *change = arg;
    if (strcmp(rec->status, change->status) == 0)
        return;
    strcpy(rec->status, change->status);
    presence_publish_conn(p, rec, p->ttl_ms);
}

void presence_on_status(const char *topic, const char *data, size_t len, void *userdata)
{
    struct presence *p = userdata;
    json_t *doc = json_loadb(data, len, 0, NULL);
    const char *user_id = json_string_value(json_object_get(doc, "user_id"));
    const char *status = json_string_value(json_object_get(doc, "status"));
    if (user_id && status && presence_status_valid(status)) {
        struct presence_status_change change = {user_id, status};
        presence_table_foreach_user(p, user_id, presence_apply_status, &change);
    }
    json_decref(doc);
}
