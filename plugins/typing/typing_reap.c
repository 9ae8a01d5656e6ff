/* The typing indicators of a worker that died end within the TTL.
 *
 * The worker holding a typing ends it with its own timer; killed, it never
 * does, and the others' screens would show the user typing for ever.  So
 * every worker
 *   - writes a heartbeat, field <worker> of "typing:workers" = wall-clock
 *     ms, every beat_ms (a fifth of the TTL) while the backend is connected;
 *   - lists the typings it holds, field "<channel> <user>" of
 *     "typing:by:<worker>", living 10 TTLs (the heartbeat too), so that a
 *     worker that died during an outage is still reaped after it;
 *   - reads the heartbeats at each beat: a worker silent for silence_ms
 *     (half the TTL) is dead, and the first live worker to reserve
 *     "typing:reap:<worker>" reads its list and, for each typing that no
 *     live worker refreshed since (the field of "typing:<channel>" names
 *     the dead worker, or is gone), sends the `typing_stop` that worker
 *     would have sent, once, to the channel on every worker.
 * So the stop goes out at most silence + one beat (0.7 TTL) after the
 * death.  Nobody is taken for dead while the backend is away, nor within
 * one TTL after it came back (the workers reconnect on their own backoff). */
#include "typing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPING_WORKERS_KEY "typing:workers"

int typing_worker_init(struct typing *t)
{
    return chat_worker_copy(t->self, t->api, t->worker, sizeof t->worker);
}

static char *typing_list_key(const char *worker)
{
    return chat_format("typing:by:%s", worker);
}

void typing_listed(struct typing *t, const struct typing_entry *entry)
{
    if (t->api->bus_state() != SBR_BUS_CONNECTED)
        return; /* only other workers read the list */
    char *key = typing_list_key(t->worker);
    char *field = chat_format("%s %s", entry->channel_id, entry->user_id);
    if (key && field)
        t->api->map_set(key, field, "1", 10 * t->ttl_ms, chat_state_ignore, NULL);
    free(key);
    free(field);
}

void typing_unlisted(struct typing *t, const struct typing_entry *entry)
{
    char *key = typing_list_key(t->worker);
    char *field = chat_format("%s %s", entry->channel_id, entry->user_id);
    if (key && field)
        t->api->map_del(key, field, chat_state_ignore, NULL);
    free(key);
    free(field);
}

/* One typing of a dead worker, waiting for who holds it now. */
struct typing_orphan {
    struct typing *t;
    char worker[sizeof(((struct typing *)0)->worker)];
    char channel_id[CHAT_ID_MAX + 1];
    char *user_id;
    char *field; /* in the dead worker's list */
};

static void typing_orphan_checked(const sbr_state_reply *reply, void *userdata)
{
    struct typing_orphan *o = userdata;
    struct typing *t = o->t;
    const char *holder = NULL;
    for (size_t i = 0; reply->status == SBR_OK && i < reply->n; i++)
        if (strcmp(reply->fields[i], o->user_id) == 0)
            holder = reply->values[i];
    /* A live worker that refreshed it since ends it in its turn. */
    if (reply->status == SBR_OK && (!holder || strcmp(holder, o->worker) == 0)) {
        typing_announce_end(t, o->channel_id, o->user_id, 0);
        t->api->metric_add(t->self, "superbot_typing_orphans_stopped_total", NULL, 1);
    }
    char *key = typing_list_key(o->worker);
    if (key)
        t->api->map_del(key, o->field, chat_state_ignore, NULL);
    free(key);
    free(o->user_id);
    free(o->field);
    free(o);
}

/* A listed "<channel> <user>" of a dead worker: look at who holds it. */
static void typing_orphan_start(struct typing *t, const char *worker, const char *field)
{
    const char *space = strchr(field, ' ');
    size_t clen = space ? (size_t)(space - field) : 0;
    if (!space || clen == 0 || clen > CHAT_ID_MAX || !space[1])
        return;
    struct typing_orphan *o = calloc(1, sizeof *o);
    char *key = NULL;
    if (o && (o->user_id = strdup(space + 1)) && (o->field = strdup(field))) {
        o->t = t;
        snprintf(o->worker, sizeof o->worker, "%s", worker);
        memcpy(o->channel_id, field, clen);
        o->channel_id[clen] = '\0';
        key = chat_format("typing:%s", o->channel_id);
        if (key && t->api->map_get_all(key, typing_orphan_checked, o) == SBR_OK)
            o = NULL;
    }
    if (o) {
        free(o->user_id);
        free(o->field);
        free(o);
    }
    free(key);
}

/* A dead worker whose reaping this worker reserved. */
struct typing_reaping {
    struct typing *t;
    char worker[sizeof(((struct typing *)0)->worker)];
};

static void typing_dead_list(const sbr_state_reply *reply, void *userdata)
{
    struct typing_reaping *r = userdata;
    for (size_t i = 0; reply->status == SBR_OK && i < reply->n; i++)
        typing_orphan_start(r->t, r->worker, reply->fields[i]);
    if (reply->status == SBR_OK && reply->n)
        r->t->api->log(r->t->self, SBR_LOG_INFO, "worker %s stopped beating: ending its %zu typing indicator(s)",
                       r->worker, reply->n);
    free(r);
}

static void typing_reap_reserved(const sbr_state_reply *reply, void *userdata)
{
    struct typing_reaping *r = userdata;
    struct typing *t = r->t;
    if (reply->status == SBR_OK && reply->acquired) {
        t->api->map_del(TYPING_WORKERS_KEY, r->worker, chat_state_ignore, NULL);
        char *key = typing_list_key(r->worker);
        int rc = key ? t->api->map_get_all(key, typing_dead_list, r) : SBR_ERR_NOMEM;
        free(key);
        if (rc == SBR_OK)
            return;
    }
    free(r);
}

static void typing_heartbeats(const sbr_state_reply *reply, void *userdata)
{
    struct typing *t = userdata;
    if (reply->status != SBR_OK || t->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    uint64_t now = t->api->now_ms();
    for (size_t i = 0; i < reply->n; i++) {
        const char *worker = reply->fields[i];
        uint64_t beat = strtoull(reply->values[i], NULL, 10);
        if (strcmp(worker, t->worker) == 0 || strlen(worker) >= sizeof(t->worker) || beat + t->silence_ms >= now)
            continue;
        struct typing_reaping *r = calloc(1, sizeof *r);
        char *key = chat_format("typing:reap:%s", worker);
        if (r && key) {
            r->t = t;
            strcpy(r->worker, worker);
            /* One live worker reaps it.  Short, so a worker only cut off
             * for a while, back and dead later, is reaped again. */
            if (t->api->reserve(key, 2 * t->silence_ms, typing_reap_reserved, r) == SBR_OK)
                r = NULL;
        }
        free(r);
        free(key);
    }
}

static void typing_beat(void *userdata)
{
    struct typing *t = userdata;
    if (t->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    char beat[24];
    uint64_t now = t->api->now_ms();
    snprintf(beat, sizeof beat, "%" PRIu64, now);
    t->api->map_set(TYPING_WORKERS_KEY, t->worker, beat, 10 * t->ttl_ms, chat_state_ignore, NULL);
    if (now - t->connected_at > t->ttl_ms)
        t->api->map_get_all(TYPING_WORKERS_KEY, typing_heartbeats, t);
}

void typing_reap_configure(struct typing *t)
{
    t->beat_ms = t->ttl_ms / 5 ? t->ttl_ms / 5 : 1;
    t->silence_ms = t->ttl_ms / 2;
    if (t->beat_timer)
        t->api->timer_stop(t->self, t->beat_timer);
    t->beat_timer = t->api->timer_start(t->self, t->beat_ms, 1, typing_beat, t);
}

void typing_reap_connected(struct typing *t)
{
    t->connected_at = t->api->now_ms();
    typing_beat(t);
}
