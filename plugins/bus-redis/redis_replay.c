/* After a failover of a sentinel set: what the old master may have lost.
 *
 * When Sentinel promotes a replica, the old master goes on taking writes
 * until the switch is announced (a second or so for a SENTINEL FAILOVER,
 * longer for a partition), and those writes never reach the new master:
 * its dataset starts from the replica's.  A worker learns of the switch at
 * the announcement, so the messages and state changes the old master
 * answered in the last failover_replay_ms are suspect (before the links
 * were lost, when the old master died).  So, in sentinel mode, answered
 * messages are kept that long (redis_outbox.h) and state changes
 * remembered (here); after connecting to a master other than the
 * last one, the messages are published again, ahead of anything newer (the
 * receivers drop those they had: redis_dedup.h) and the state changes are
 * written back from the in-process mirror (redis_writeback.c: values with
 * their time left, reservations never shortened). */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis_change {
    struct redis_change *next;
    uint64_t at_ms;
    enum redis_op_kind kind;
    char *key;
    char *field; /* maps only */
};

void redis_replay_init(struct bus_redis *br, uint64_t replay_ms)
{
    br->changes_tail = &br->changes_head;
    br->replay_ms = br->mode == REDIS_MODE_SENTINEL ? replay_ms : 0;
    br->outbox.keep_answered_ms = br->replay_ms;
}

static void redis_change_free(struct redis_change *c)
{
    free(c->key);
    free(c->field);
    free(c);
}

static void redis_replay_pop(struct bus_redis *br)
{
    struct redis_change *c = br->changes_head;
    br->changes_head = c->next;
    if (!br->changes_head)
        br->changes_tail = &br->changes_head;
    br->changes_count--;
    redis_change_free(c);
}

void redis_replay_clear(struct bus_redis *br)
{
    while (br->changes_head)
        redis_replay_pop(br);
}

/* Forget what is older than replay_ms, and the oldest past the bound. */
static void redis_replay_trim(struct bus_redis *br, uint64_t now)
{
    while (br->changes_head && (br->changes_count > br->outbox.max_events ||
                                (now > br->changes_head->at_ms && now - br->changes_head->at_ms > br->replay_ms)))
        redis_replay_pop(br);
}

void redis_replay_note(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field)
{
    if (!br->replay_ms)
        return;
    uint64_t now = redis_link_monotonic_ms();
    struct redis_change *c = calloc(1, sizeof(*c));
    if (!c || !(c->key = strdup(key)) || (field && !(c->field = strdup(field)))) {
        if (c)
            redis_change_free(c);
        return;
    }
    c->kind = kind;
    c->at_ms = now;
    *br->changes_tail = c;
    br->changes_tail = &c->next;
    br->changes_count++;
    redis_replay_trim(br, now);
}

void redis_replay_switched(struct bus_redis *br)
{
    if (!br->replay_ms)
        return;
    const struct redis_node *master = br->nodes[0];
    int other = br->master_host[0] && (strcmp(br->master_host, master->host) != 0 || br->master_port != master->port);
    /* The window ends where the old master was lost, not now: a master
     * that died is replaced only after down-after-milliseconds. */
    uint64_t lost = br->down_since_ms ? br->down_since_ms : redis_link_monotonic_ms();
    if (other) {
        redis_replay_trim(br, lost);
        size_t messages = redis_outbox_replay(&br->outbox);
        size_t changes = br->changes_count;
        for (struct redis_change *c = br->changes_head; c; c = c->next)
            redis_writeback_note(br, c->kind, c->key, c->field);
        br->api->log(br->self, SBR_LOG_INFO,
                     "master changed from %s:%d to %s: publishing again %zu message(s) and writing back %zu state "
                     "change(s) the old master took in its last %llu ms (failover_replay_ms)",
                     br->master_host, br->master_port, master->name, messages, changes,
                     (unsigned long long)br->replay_ms);
    } else {
        redis_outbox_keep_answered(&br->outbox, 0); /* the same master: nothing of it was lost */
    }
    redis_replay_clear(br);
    snprintf(br->master_host, sizeof(br->master_host), "%s", master->host);
    br->master_port = master->port;
}
