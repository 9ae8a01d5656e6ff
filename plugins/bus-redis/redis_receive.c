/* Receiving: what the subscriber links bring goes to the core, minus our
 * own echo and minus what was delivered already (a message sent again by
 * a worker that lost its link before Redis answered: redis_dedup.h).
 *
 * Catching up.  When this worker's links open (at start, or after losing
 * Redis) it may have missed what another worker published before this one
 * was subscribed again: the messages that worker kept during the outage and
 * sent as soon as it was back itself.  Those are in the recent streams
 * (redis_publish.c).  So from the opening of the links, messages are held;
 * once subscribed, this worker reads the streams (the one stream of a
 * single server, or the stream of each slot holding a wanted topic on a
 * cluster: what it is subscribed to and has not delivered), then delivers
 * what it held.  The subscriptions are answered before the streams are
 * read, so a message is either in what was read or among those held (or
 * both: the duplicate is dropped).  A cluster slot whose subscriptions
 * moved to another master is caught up the same way (redis_pubsub.c). */
#include "bus_redis.h"

#include <stdlib.h>
#include <string.h>

/* Stream entries per XRANGE (the same number as text). */
#define REDIS_RECENT_PAGE 256
#define REDIS_RECENT_PAGE_TEXT "256"

struct redis_receive_page {
    struct bus_redis *br;
    uint64_t generation; /* of the links it was asked on */
    uint32_t slot;
};

int redis_receive_init(struct bus_redis *br)
{
    br->held_tail = &br->held_head;
    br->dedup = redis_dedup_new();
    return br->dedup ? 0 : -1;
}

static void redis_receive_deliver(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope,
                                  size_t len)
{
    uint64_t seq;
    const char *payload;
    size_t payload_len;
    /* A flush's marker, after what came before it (held or not). */
    if (redis_rooms_is_anchor(br, topic)) {
        redis_rooms_marker(br, envelope, len);
        return;
    }
    if (redis_envelope_parse(envelope, len, &seq, &payload, &payload_len) != 0)
        return;
    /* A room event with its offset: every worker's, this one's included. */
    if (redis_rooms_receive(br, topic, lane, envelope, seq, payload, payload_len))
        return;
    if (memcmp(envelope, br->worker_id, BUS_REDIS_WORKER_ID_LEN) == 0)
        return; /* our own echo: the core delivered it here already */
    if (!redis_dedup_accept(br->dedup, envelope, lane, seq, br->api->now_ms())) {
        if (br->api->metric_add)
            br->api->metric_add(br->self, "superbot_bus_duplicates_dropped_total", NULL, 1);
        return;
    }
    br->api->bus_deliver(topic, payload, payload_len);
}

static void redis_receive_release(struct bus_redis *br)
{
    struct redis_held *h = br->held_head;
    br->held_head = NULL;
    br->held_tail = &br->held_head;
    br->held_count = 0;
    while (h) {
        struct redis_held *next = h->next;
        if (!br->unloading)
            redis_receive_deliver(br, h->topic, h->lane, h->envelope, h->envelope_len);
        free(h);
        h = next;
    }
}

static void redis_receive_keep(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope,
                               size_t len)
{
    size_t tlen = strlen(topic);
    struct redis_held *h = malloc(sizeof(*h) + tlen + 1 + len);
    if (!h) {
        redis_receive_deliver(br, topic, lane, envelope, len);
        return;
    }
    h->next = NULL;
    h->lane = lane;
    h->topic = h->data;
    memcpy(h->topic, topic, tlen + 1);
    h->envelope = h->data + tlen + 1;
    memcpy(h->envelope, envelope, len);
    h->envelope_len = len;
    *br->held_tail = h;
    br->held_tail = &h->next;
    br->held_count++;
}

void redis_receive_message(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope, size_t len)
{
    if (!br->holds || br->hold_overflow) {
        redis_receive_deliver(br, topic, lane, envelope, len);
        return;
    }
    redis_receive_keep(br, topic, lane, envelope, len);
    /* Bounded like the outage buffer: past it, stop holding (late stream
     * entries then count as duplicates of newer ones). */
    if (br->held_count >= br->outbox.max_events) {
        br->hold_overflow = 1;
        redis_receive_release(br);
    }
}

void redis_receive_hold_add(struct bus_redis *br, size_t n)
{
    br->holds += n;
}

void redis_receive_hold_done(struct bus_redis *br, size_t n)
{
    br->holds = br->holds > n ? br->holds - n : 0;
    if (br->holds)
        return;
    br->hold_overflow = 0;
    redis_receive_release(br);
}

void redis_receive_hold(struct bus_redis *br, int on)
{
    br->hold_generation++;
    br->holds = 0;
    if (on) {
        br->holds = 1; /* until redis_receive_catch_up has asked for every stream */
        return;
    }
    br->hold_overflow = 0;
    redis_receive_release(br);
}

/* One stream entry: [id, [field, value, ...]] with fields c (channel) and m (envelope). */
static void redis_receive_entry(struct bus_redis *br, const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[1]->type != REDIS_REPLY_ARRAY)
        return;
    const redisReply *kv = entry->element[1];
    const redisReply *channel = NULL, *envelope = NULL;
    for (size_t i = 0; i + 1 < kv->elements; i += 2) {
        const redisReply *name = kv->element[i], *value = kv->element[i + 1];
        if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
            continue;
        if (strcmp(name->str, "c") == 0)
            channel = value;
        else if (strcmp(name->str, "m") == 0)
            envelope = value;
    }
    const char *topic = channel ? redis_pubsub_topic(br, channel->str, channel->len) : NULL;
    if (topic && envelope && redis_pubsub_wanted(br, topic))
        redis_receive_deliver(br, topic, redis_pubsub_lane(br, channel->str, channel->len), envelope->str,
                              envelope->len);
}

static int redis_receive_request(struct bus_redis *br, struct redis_receive_page *page, const char *from);

/* The id after which the next page starts ("(" + the last id), or NULL
 * when this page was the last. */
static const char *redis_receive_next_from(const redisReply *reply, char *from, size_t size)
{
    const redisReply *last = reply->elements ? reply->element[reply->elements - 1] : NULL;
    if (reply->elements != REDIS_RECENT_PAGE || last->type != REDIS_REPLY_ARRAY || last->elements != 2 ||
        last->element[0]->type != REDIS_REPLY_STRING || last->element[0]->len + 2 > size)
        return NULL;
    from[0] = '(';
    memcpy(from + 1, last->element[0]->str, last->element[0]->len + 1);
    return from;
}

static void redis_receive_page(struct redis_node *node, redisReply *reply, void *privdata)
{
    struct redis_receive_page *page = privdata;
    struct bus_redis *br = page->br;
    if (page->generation != br->hold_generation || br->unloading) {
        free(page); /* the links were given up meanwhile: nothing is held for it */
        return;
    }
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++)
            redis_receive_entry(br, reply->element[i]);
        char from[80];
        if (redis_receive_next_from(reply, from, sizeof(from)) && redis_receive_request(br, page, from) == 0)
            return;
    }
    /* Read (or unreadable, or the link is gone): deliver what was held for it. */
    free(page);
    redis_receive_hold_done(br, 1);
}

static int redis_receive_request(struct bus_redis *br, struct redis_receive_page *page, const char *from)
{
    size_t stream_len;
    char *stream = redis_publish_stream(br, page->slot, &stream_len);
    const char *argv[6] = {"XRANGE", stream, from, "+", "COUNT", REDIS_RECENT_PAGE_TEXT};
    size_t lens[6] = {6, stream_len, strlen(from), 1, 5, strlen(REDIS_RECENT_PAGE_TEXT)};
    int rc = stream ? redis_route_command(br, page->slot, 6, argv, lens, redis_receive_page, page) : -1;
    free(stream);
    return rc;
}

/* Start reading one slot's stream, holding messages until it is read. */
static void redis_receive_start(struct bus_redis *br, uint32_t slot, void *arg)
{
    struct redis_receive_page *page = malloc(sizeof(*page));
    if (!page)
        return;
    page->br = br;
    page->generation = br->hold_generation;
    page->slot = slot;
    redis_receive_hold_add(br, 1);
    if (redis_receive_request(br, page, "-") != 0) {
        free(page);
        redis_receive_hold_done(br, 1);
    }
}

void redis_receive_catch_up(struct bus_redis *br)
{
    if (br->mode == REDIS_MODE_CLUSTER)
        redis_pubsub_foreach_slot(br, redis_receive_start, NULL);
    else
        redis_receive_start(br, 0, NULL);
    redis_receive_hold_done(br, 1); /* every read is asked for */
}

void redis_receive_catch_up_slot(struct bus_redis *br, uint32_t slot)
{
    redis_receive_start(br, slot, NULL);
}

void redis_receive_clear(struct bus_redis *br)
{
    struct redis_held *h = br->held_head;
    while (h) {
        struct redis_held *next = h->next;
        free(h);
        h = next;
    }
    br->held_head = NULL;
    br->held_tail = &br->held_head;
    br->held_count = 0;
    redis_dedup_free(br->dedup);
    br->dedup = NULL;
}
