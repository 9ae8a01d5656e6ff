/* The outage buffer (see redis_outbox.h). */
#include "redis_outbox.h"

#include "redis_envelope.h"

#include <stdlib.h>
#include <string.h>

int redis_outbox_init(struct redis_outbox *ob, size_t n_lanes, size_t max_events, size_t max_bytes,
                      uint64_t max_age_ms)
{
    memset(ob, 0, sizeof(*ob));
    ob->lanes = calloc(n_lanes ? n_lanes : 1, sizeof(*ob->lanes));
    if (!ob->lanes)
        return -1;
    ob->n_lanes = n_lanes ? n_lanes : 1;
    ob->max_events = max_events;
    ob->max_bytes = max_bytes;
    ob->max_age_ms = max_age_ms;
    return 0;
}

/* Take e out of the list of every entry, and free it. */
static void redis_outbox_forget(struct redis_outbox *ob, struct redis_outbox_entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        ob->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        ob->newest = e->older;
    ob->count--;
    ob->bytes -= e->envelope_len;
    free(e);
}

/* Take the lane's head out of the lane, wherever it stands. */
static void redis_outbox_lane_pop(struct redis_outbox_lane *lane)
{
    struct redis_outbox_entry *e = lane->head;
    lane->head = e->lane_next;
    if (!lane->head)
        lane->tail = NULL;
    if (lane->waiting == e) {
        lane->waiting = e->lane_next;
    } else if (lane->redirected) {
        lane->redirected--;
    } else if (lane->in_flight) {
        /* Its answer will still come, and must not retire a later entry. */
        lane->in_flight--;
        lane->answers_to_skip++;
    }
}

static void redis_outbox_drop_oldest(struct redis_outbox *ob)
{
    struct redis_outbox_entry *e = ob->oldest;
    if (!e->answered) {
        /* The oldest unanswered entry of a lane is that lane's head. */
        redis_outbox_lane_pop(&ob->lanes[e->lane]);
        ob->unanswered--;
        ob->dropped++;
    }
    redis_outbox_forget(ob, e);
}

void redis_outbox_clear(struct redis_outbox *ob)
{
    while (ob->oldest) {
        struct redis_outbox_entry *e = ob->oldest;
        ob->oldest = e->newer;
        free(e);
    }
    free(ob->lanes);
    ob->lanes = NULL;
    ob->n_lanes = 0;
    ob->newest = NULL;
    ob->count = ob->bytes = ob->unanswered = 0;
}

static int redis_outbox_over(const struct redis_outbox *ob, uint64_t now)
{
    const struct redis_outbox_entry *e = ob->oldest;
    if (!e)
        return 0;
    if (ob->count > ob->max_events || ob->bytes > ob->max_bytes)
        return 1;
    if (e->answered && ob->keep_from_ms)
        return e->answered_ms < ob->keep_from_ms;
    if (e->answered && now > e->answered_ms && now - e->answered_ms > ob->keep_answered_ms)
        return 1;
    return now > e->queued_ms && now - e->queued_ms > ob->max_age_ms;
}

size_t redis_outbox_trim(struct redis_outbox *ob, uint64_t now)
{
    uint64_t before = ob->dropped;
    while (redis_outbox_over(ob, now))
        redis_outbox_drop_oldest(ob);
    return (size_t)(ob->dropped - before);
}

static struct redis_outbox_entry *redis_outbox_entry_new(uint64_t seq, const char *origin, const char *channel,
                                                         const char *payload, size_t len)
{
    size_t chlen = strlen(channel);
    struct redis_outbox_entry *e = malloc(sizeof(*e) + chlen + 1 + REDIS_ENVELOPE_HEAD + len);
    if (!e)
        return NULL;
    memset(e, 0, sizeof(*e));
    e->seq = seq;
    memcpy(e->data, channel, chlen + 1);
    e->channel = e->data;
    e->channel_len = chlen;
    char *envelope = e->data + chlen + 1;
    redis_envelope_head(envelope, origin, seq);
    if (len)
        memcpy(envelope + REDIS_ENVELOPE_HEAD, payload, len);
    e->envelope = envelope;
    e->envelope_len = REDIS_ENVELOPE_HEAD + len;
    return e;
}

int redis_outbox_push(struct redis_outbox *ob, uint32_t lane_id, const char *origin, const char *channel,
                      const char *payload, size_t len, uint64_t now)
{
    if (lane_id >= ob->n_lanes)
        return -1;
    struct redis_outbox_entry *e = redis_outbox_entry_new(ob->next_seq + 1, origin, channel, payload, len);
    if (!e)
        return -1;
    ob->next_seq++;
    e->queued_ms = now;
    e->lane = lane_id;
    e->older = ob->newest;
    if (ob->newest)
        ob->newest->newer = e;
    else
        ob->oldest = e;
    ob->newest = e;
    struct redis_outbox_lane *lane = &ob->lanes[lane_id];
    if (lane->tail)
        lane->tail->lane_next = e;
    else
        lane->head = e;
    lane->tail = e;
    if (!lane->waiting)
        lane->waiting = e;
    ob->count++;
    ob->unanswered++;
    ob->bytes += e->envelope_len;
    redis_outbox_trim(ob, now);
    return 0;
}

struct redis_outbox_entry *redis_outbox_next(const struct redis_outbox *ob, uint32_t lane)
{
    if (lane >= ob->n_lanes || ob->lanes[lane].redirected)
        return NULL;
    return ob->lanes[lane].waiting;
}

void redis_outbox_sent(struct redis_outbox *ob, uint32_t lane_id, uint32_t link)
{
    struct redis_outbox_lane *lane = &ob->lanes[lane_id];
    if (!lane->waiting)
        return;
    lane->waiting = lane->waiting->lane_next;
    lane->in_flight++;
    lane->link = link;
}

/* The entry answered: the first in flight, after the redirected ones. */
static struct redis_outbox_entry *redis_outbox_lane_take(struct redis_outbox_lane *lane)
{
    if (!lane->redirected) {
        struct redis_outbox_entry *e = lane->head;
        lane->head = e->lane_next;
        if (!lane->head)
            lane->tail = NULL;
        return e;
    }
    struct redis_outbox_entry *before = lane->head;
    for (uint32_t i = 1; i < lane->redirected; i++)
        before = before->lane_next;
    struct redis_outbox_entry *e = before->lane_next;
    before->lane_next = e->lane_next;
    if (lane->tail == e)
        lane->tail = before;
    return e;
}

void redis_outbox_answered(struct redis_outbox *ob, uint32_t lane_id, uint64_t now)
{
    if (lane_id >= ob->n_lanes)
        return;
    struct redis_outbox_lane *lane = &ob->lanes[lane_id];
    if (lane->answers_to_skip) {
        lane->answers_to_skip--;
        return;
    }
    if (!lane->in_flight)
        return;
    lane->in_flight--;
    struct redis_outbox_entry *e = redis_outbox_lane_take(lane);
    ob->unanswered--;
    if (!ob->keep_answered_ms) {
        redis_outbox_forget(ob, e);
        return;
    }
    e->answered = 1;
    e->answered_ms = now;
    e->lane_next = NULL;
}

int redis_outbox_redirected(struct redis_outbox *ob, uint32_t lane_id)
{
    if (lane_id >= ob->n_lanes)
        return 0;
    struct redis_outbox_lane *lane = &ob->lanes[lane_id];
    if (lane->answers_to_skip)
        lane->answers_to_skip--;
    else if (lane->in_flight) {
        lane->in_flight--;
        lane->redirected++;
    }
    if (lane->in_flight || !lane->redirected)
        return 0;
    lane->redirected = 0;
    lane->waiting = lane->head;
    return 1;
}

static void redis_outbox_lane_rewind(struct redis_outbox_lane *lane)
{
    lane->waiting = lane->head;
    lane->in_flight = 0;
    lane->redirected = 0;
    lane->answers_to_skip = 0;
}

void redis_outbox_rewind(struct redis_outbox *ob)
{
    for (size_t i = 0; i < ob->n_lanes; i++)
        redis_outbox_lane_rewind(&ob->lanes[i]);
}

void redis_outbox_rewind_link(struct redis_outbox *ob, uint32_t link)
{
    for (size_t i = 0; i < ob->n_lanes; i++) {
        struct redis_outbox_lane *lane = &ob->lanes[i];
        if (lane->link == link && (lane->in_flight || lane->redirected || lane->answers_to_skip))
            redis_outbox_lane_rewind(lane);
    }
}

void redis_outbox_keep_answered(struct redis_outbox *ob, uint64_t now)
{
    if (!ob->keep_answered_ms)
        return;
    if (!now)
        ob->keep_from_ms = 0;
    else if (!ob->keep_from_ms) /* already kept since an earlier loss */
        ob->keep_from_ms = now > ob->keep_answered_ms ? now - ob->keep_answered_ms : 1;
}

size_t redis_outbox_replay(struct redis_outbox *ob)
{
    size_t n = 0;
    ob->keep_from_ms = 0;
    /* Newest first, each to the front of its lane: the lanes end up in
     * publication order. */
    for (struct redis_outbox_entry *e = ob->newest; e; e = e->older) {
        if (!e->answered)
            continue;
        struct redis_outbox_lane *lane = &ob->lanes[e->lane];
        e->answered = 0;
        e->lane_next = lane->head;
        lane->head = e;
        if (!lane->tail)
            lane->tail = e;
        ob->unanswered++;
        n++;
    }
    redis_outbox_rewind(ob);
    return n;
}
