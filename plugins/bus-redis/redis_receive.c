/* Receiving: what the subscriber link brings goes to the core, minus our
 * own echo and minus what was delivered already (a message sent again by
 * a worker that lost its link before Redis answered: redis_dedup.h).
 *
 * Catching up.  When this worker's links open (at start, or after losing
 * Redis) it may have missed what another worker published before this one
 * was subscribed again: the messages that worker kept during the outage and
 * sent as soon as it was back itself.  Those are in the recent stream
 * (redis_publish.c).  So from the opening of the links, messages are held;
 * once subscribed, this worker reads the stream (what it is subscribed to
 * and has not delivered), then delivers what it held.  The subscriptions
 * are answered before the stream is read, so a message is either in what
 * was read or among those held (or both: the duplicate is dropped). */
#include "bus_redis.h"

#include <stdlib.h>
#include <string.h>

/* Stream entries per XRANGE (the same number as text). */
#define REDIS_RECENT_PAGE 256
#define REDIS_RECENT_PAGE_TEXT "256"

int redis_receive_init(struct bus_redis *br)
{
    br->held_tail = &br->held_head;
    br->dedup = redis_dedup_new();
    return br->dedup ? 0 : -1;
}

static void redis_receive_deliver(struct bus_redis *br, const char *topic, const char *envelope, size_t len)
{
    uint64_t seq;
    const char *payload;
    size_t payload_len;
    if (redis_envelope_parse(envelope, len, &seq, &payload, &payload_len) != 0)
        return;
    /* A room event with its offset: every worker's, this one's included. */
    if (redis_rooms_receive(br, topic, envelope, seq, payload, payload_len))
        return;
    if (memcmp(envelope, br->worker_id, BUS_REDIS_WORKER_ID_LEN) == 0)
        return; /* our own echo: the core delivered it here already */
    if (!redis_dedup_accept(br->dedup, envelope, seq, br->api->now_ms())) {
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
    br->catching_up = 0;
    while (h) {
        struct redis_held *next = h->next;
        if (!br->unloading)
            redis_receive_deliver(br, h->topic, h->envelope, h->envelope_len);
        free(h);
        h = next;
    }
}

static void redis_receive_keep(struct bus_redis *br, const char *topic, const char *envelope, size_t len)
{
    size_t tlen = strlen(topic);
    struct redis_held *h = malloc(sizeof(*h) + tlen + 1 + len);
    if (!h) {
        redis_receive_deliver(br, topic, envelope, len);
        return;
    }
    h->next = NULL;
    h->topic = h->data;
    memcpy(h->topic, topic, tlen + 1);
    h->envelope = h->data + tlen + 1;
    memcpy(h->envelope, envelope, len);
    h->envelope_len = len;
    *br->held_tail = h;
    br->held_tail = &h->next;
    br->held_count++;
}

void redis_receive_message(struct bus_redis *br, const char *topic, const char *envelope, size_t len)
{
    if (!br->catching_up) {
        redis_receive_deliver(br, topic, envelope, len);
        return;
    }
    redis_receive_keep(br, topic, envelope, len);
    /* Bounded like the outage buffer: past it, stop holding (late stream
     * entries then count as duplicates of newer ones). */
    if (br->held_count >= br->outbox.max_events)
        redis_receive_release(br);
}

void redis_receive_hold(struct bus_redis *br, int on)
{
    if (on)
        br->catching_up = 1;
    else if (br->catching_up)
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
        redis_receive_deliver(br, topic, envelope->str, envelope->len);
}

static int redis_receive_request(struct bus_redis *br, const char *from);

static void redis_receive_page(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    redisReply *reply = r;
    redis_link_answered(br);
    if (!reply || ac != br->cmd || reply->type != REDIS_REPLY_ARRAY) {
        /* The link is gone (or the stream unreadable): deliver what was held. */
        redis_receive_release(br);
        return;
    }
    for (size_t i = 0; i < reply->elements; i++)
        redis_receive_entry(br, reply->element[i]);
    const redisReply *last = reply->elements ? reply->element[reply->elements - 1] : NULL;
    if (reply->elements == REDIS_RECENT_PAGE && last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
        last->element[0]->type == REDIS_REPLY_STRING && last->element[0]->len < 60) {
        char from[64];
        from[0] = '(';
        memcpy(from + 1, last->element[0]->str, last->element[0]->len + 1);
        if (redis_receive_request(br, from) == 0)
            return;
    }
    redis_receive_release(br);
}

static int redis_receive_request(struct bus_redis *br, const char *from)
{
    size_t stream_len;
    char *stream = redis_name(br, REDIS_RECENT_SPACE, "", &stream_len);
    const char *argv[6] = {"XRANGE", stream, from, "+", "COUNT", REDIS_RECENT_PAGE_TEXT};
    size_t lens[6] = {6, stream_len, strlen(from), 1, 5, strlen(REDIS_RECENT_PAGE_TEXT)};
    int rc = stream && br->cmd ? redisAsyncCommandArgv(br->cmd, redis_receive_page, NULL, 6, argv, lens) : REDIS_ERR;
    free(stream);
    if (rc != REDIS_OK)
        return -1;
    redis_link_sent(br);
    return 0;
}

void redis_receive_catch_up(struct bus_redis *br)
{
    if (redis_receive_request(br, "-") != 0)
        redis_receive_release(br);
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
