/* The users of a worker that died go offline for everyone, within the TTL.
 *
 * A worker that stops (SIGKILL, a crash, a lost machine) never runs its
 * disconnect hooks: its entries only expire.  So that the members of its
 * users' servers still get one `offline` each, every worker
 *   - writes a heartbeat, field <worker> of "presence:workers" = wall-clock
 *     ms, every beat_ms (a sixth of the TTL);
 *   - lists its users, field <user> of "presence:users:<worker>" = the
 *     user's servers as a JSON array, living 3 TTLs;
 *   - reads the heartbeats at each beat: a worker silent for silence_ms
 *     (half the TTL) is dead, and the first live worker to reserve
 *     "presence:reap:<worker>" reads its user list and, for each user,
 *     removes the dead worker's connections from the user's map (they
 *     would only expire with the TTL); a user left with none anywhere
 *     leaves their server maps and is announced `offline`.
 * So `offline` goes out at most silence + one beat after the last
 * heartbeat (20 s with a 30 s TTL), and never before the presence grace
 * since it (its connections were lost then: a drained worker's clients
 * come back elsewhere).  A user who reconnected on a live worker in the
 * meantime has a live connection again and is not announced.  Nobody is reaped while the backend is away, nor within one
 * TTL after it came back (the other workers reconnect on their own
 * backoff, then beat); a worker that was only cut off and is reaped all
 * the same announces its users online again when it gets back
 * (presence_recovered). */
#include "presence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRESENCE_WORKERS_KEY "presence:workers"

static char *presence_servers_json(const struct presence_conn *rec)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < rec->n_servers; i++)
        json_array_append_new(list, json_string(rec->servers[i]));
    return chat_json_dump(list);
}

void presence_user_listed(struct presence *p, const struct presence_conn *rec)
{
    /* Only other workers read the list, through the shared backend: with
     * in-process state (one worker, or Redis away) it would cost memory for
     * nothing.  presence_recovered lists everyone when the backend is back. */
    if (p->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    char *key = chat_format("presence:users:%s", p->worker);
    char *servers = presence_servers_json(rec);
    if (key && servers)
        p->api->map_set(key, rec->user_id, servers, 3 * p->ttl_ms, chat_state_ignore, NULL);
    free(key);
    free(servers);
}

void presence_user_unlisted(struct presence *p, const char *user_id)
{
    char *key = chat_format("presence:users:%s", p->worker);
    if (key)
        p->api->map_del(key, user_id, chat_state_ignore, NULL);
    free(key);
}

/* One user of a dead worker, waiting for the list of their connections. */
struct presence_orphan {
    struct presence *p;
    char *user_id;
    char *servers; /* JSON array */
    char prefix[sizeof(((struct presence *)0)->worker) + 1]; /* "<dead worker>:" */
};

static void presence_orphan_free(struct presence_orphan *o)
{
    free(o->user_id);
    free(o->servers);
    free(o);
}

/* The user is gone everywhere: out of the server maps, and offline. */
static void presence_orphan_offline(struct presence *p, struct presence_orphan *o)
{
    json_t *list = json_loads(o->servers, 0, NULL);
    size_t n = json_array_size(list);
    char **servers = n ? calloc(n, sizeof *servers) : NULL;
    size_t kept = 0;
    for (size_t i = 0; servers && i < n; i++) {
        const char *server = json_string_value(json_array_get(list, i));
        char *key = server ? chat_format("presence:server:%s", server) : NULL;
        if (key) {
            p->api->map_del(key, o->user_id, chat_state_ignore, NULL);
            servers[kept++] = (char *)server;
        }
        free(key);
    }
    if (kept) {
        struct presence_conn gone = {.user_id = o->user_id, .servers = servers, .n_servers = kept};
        presence_announce(p, &gone, "offline");
        p->api->metric_add(p->self, "superbot_presence_orphans_offline_total", NULL, 1);
    }
    free(servers);
    json_decref(list);
}

static void presence_orphan_conns(const sbr_state_reply *reply, void *userdata)
{
    struct presence_orphan *o = userdata;
    struct presence *p = o->p;
    if (reply->status != SBR_OK) {
        presence_orphan_free(o);
        return;
    }
    char *key = chat_format("presence:conns:%s", o->user_id);
    size_t live = 0, plen = strlen(o->prefix);
    for (size_t i = 0; i < reply->n; i++) {
        if (strncmp(reply->fields[i], o->prefix, plen) != 0)
            live++;
        else if (key)
            p->api->map_del(key, reply->fields[i], chat_state_ignore, NULL);
    }
    free(key);
    if (live == 0)
        presence_orphan_offline(p, o);
    presence_orphan_free(o);
}

/* A dead worker whose reaping this worker reserved. */
struct presence_reaping {
    struct presence *p;
    char worker[sizeof(((struct presence *)0)->worker)];
    uint64_t beat;                       /* its last heartbeat, wall-clock ms */
    sbr_timer_id timer;                  /* waiting for the grace of its connections */
    struct presence_reaping *prev, *next; /* in p->reapings while waiting */
};

static void presence_dead_users(const sbr_state_reply *reply, void *userdata)
{
    struct presence_reaping *r = userdata;
    struct presence *p = r->p;
    size_t n = reply->status == SBR_OK ? reply->n : 0;
    for (size_t i = 0; i < n; i++) {
        struct presence_orphan *o = calloc(1, sizeof *o);
        char *key = chat_format("presence:conns:%s", reply->fields[i]);
        if (o && key && (o->user_id = strdup(reply->fields[i])) && (o->servers = strdup(reply->values[i]))) {
            o->p = p;
            snprintf(o->prefix, sizeof o->prefix, "%s:", r->worker);
            if (p->api->map_get_all(key, presence_orphan_conns, o) == SBR_OK)
                o = NULL;
        }
        if (o)
            presence_orphan_free(o);
        free(key);
    }
    p->api->log(p->self, SBR_LOG_INFO, "worker %s stopped refreshing presence: checking its %zu user(s)", r->worker,
                n);
    free(r);
}

/* Read the dead worker's users, and check each. */
static void presence_reap_users(struct presence_reaping *r)
{
    struct presence *p = r->p;
    char *key = chat_format("presence:users:%s", r->worker);
    int rc = key ? p->api->map_get_all(key, presence_dead_users, r) : SBR_ERR_NOMEM;
    free(key);
    if (rc != SBR_OK)
        free(r);
}

static void presence_reaping_unlink(struct presence_reaping *r)
{
    struct presence *p = r->p;
    if (r->prev)
        r->prev->next = r->next;
    else
        p->reapings = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

static void presence_reap_graced(void *userdata)
{
    struct presence_reaping *r = userdata;
    presence_reaping_unlink(r);
    presence_reap_users(r);
}

/* Its connections were lost when it stopped (a drain, a crash): their
 * users get the grace, from its last heartbeat, to come back elsewhere. */
static void presence_reap_reserved(const sbr_state_reply *reply, void *userdata)
{
    struct presence_reaping *r = userdata;
    struct presence *p = r->p;
    if (reply->status != SBR_OK || !reply->acquired) {
        free(r);
        return;
    }
    p->api->map_del(PRESENCE_WORKERS_KEY, r->worker, chat_state_ignore, NULL);
    uint64_t now = p->api->now_ms(), until = r->beat + p->grace_ms;
    if (until > now && (r->timer = p->api->timer_start(p->self, until - now, 0, presence_reap_graced, r))) {
        r->next = p->reapings;
        if (p->reapings)
            p->reapings->prev = r;
        p->reapings = r;
        return;
    }
    presence_reap_users(r);
}

void presence_reap_clear(struct presence *p)
{
    while (p->reapings) {
        struct presence_reaping *r = p->reapings;
        p->api->timer_stop(p->self, r->timer);
        presence_reaping_unlink(r);
        free(r);
    }
}

static void presence_heartbeats(const sbr_state_reply *reply, void *userdata)
{
    struct presence *p = userdata;
    if (reply->status != SBR_OK || p->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    uint64_t now = p->api->now_ms();
    for (size_t i = 0; i < reply->n; i++) {
        const char *worker = reply->fields[i];
        uint64_t beat = strtoull(reply->values[i], NULL, 10);
        if (strcmp(worker, p->worker) == 0 || strlen(worker) >= sizeof(p->worker) || beat + p->silence_ms >= now)
            continue;
        struct presence_reaping *r = calloc(1, sizeof *r);
        char *key = chat_format("presence:reap:%s", worker);
        if (r && key) {
            r->p = p;
            r->beat = beat;
            strcpy(r->worker, worker);
            /* One live worker reaps it; the key outlives the heartbeat field. */
            if (p->api->reserve(key, 10 * p->ttl_ms, presence_reap_reserved, r) == SBR_OK)
                r = NULL;
        }
        free(r);
        free(key);
    }
}

void presence_heartbeat(struct presence *p)
{
    if (p->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    char beat[24];
    snprintf(beat, sizeof beat, "%" PRIu64, p->api->now_ms());
    p->api->map_set(PRESENCE_WORKERS_KEY, p->worker, beat, 10 * p->ttl_ms, chat_state_ignore, NULL);
}

void presence_reap_tick(struct presence *p)
{
    presence_heartbeat(p);
    presence_doubt_check(p);
    /* Only the shared backend tells who is alive: while it is away, the
     * in-process fallback holds stale heartbeats of live workers.  And
     * once it is back, the other workers get one TTL to reconnect and
     * beat again before any of them is taken for dead. */
    if (p->api->bus_state() == SBR_BUS_CONNECTED && p->api->now_ms() - p->connected_at > p->ttl_ms)
        p->api->map_get_all(PRESENCE_WORKERS_KEY, presence_heartbeats, p);
}
