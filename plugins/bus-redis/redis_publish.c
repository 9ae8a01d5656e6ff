/* Publishing through the outage buffer.  A message is done only when Redis
 * answered its PUBLISH (SPUBLISH on a cluster, to the master of the
 * channel's slot): until then it stays in the buffer, and a link lost
 * meanwhile (closed, refused, or silent past connect_timeout_ms) sends it
 * again on the next one, before anything newer.  A MOVED answer sends the
 * slot's messages again, in order, to its new master (redis_outbox.h).
 *
 * The workers do not all get Redis back at the same moment (each retries
 * on its own backoff), and Redis does not keep a message for a subscriber
 * that is not connected yet.  So for recent_window_ms after connecting, a
 * worker also appends what it publishes to a short stream in Redis (the
 * channel's slot's, on a cluster), read by every worker when it
 * (re)connects (redis_receive.c): what this worker sends first after an
 * outage reaches the workers that come back after it.  On a cluster the
 * same goes for a slot that moved, for recent_window_ms after this worker
 * learned of it: a worker whose subscription moves there later reads what
 * it missed. */
#include "bus_redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
/* At most one log line about dropped messages per this many ms while the link is up. */
#define REDIS_DROP_LOG_EVERY_MS 10000

int redis_publish_init(struct bus_redis *br, size_t max_events, size_t max_bytes, uint64_t max_age_ms)
{
    /* Long enough for the slowest worker to come back: a whole backoff
     * step, a connection attempt that was already waiting, and a margin. */
    br->recent_window_ms = br->reconnect_max_ms + 2 * br->connect_timeout_ms + 2000;
    size_t lanes = br->mode == REDIS_MODE_CLUSTER ? REDIS_SLOTS : 1;
    return redis_outbox_init(&br->outbox, lanes, max_events, max_bytes, max_age_ms);
}

char *redis_publish_stream(const struct bus_redis *br, uint32_t slot, size_t *len)
{
    if (br->mode != REDIS_MODE_CLUSTER)
        return redis_name(br, REDIS_RECENT_SPACE, "", len);
    char tagged[REDIS_SLOT_TAG_SIZE + 4];
    snprintf(tagged, sizeof(tagged), ":{%s}", br->slot_tags[slot & (REDIS_SLOTS - 1)]);
    return redis_name(br, REDIS_RECENT_SPACE, tagged, len);
}

static void redis_publish_gauge(struct bus_redis *br)
{
    if (br->api->metric_set)
        br->api->metric_set(br->self, "superbot_bus_outage_buffered_messages", NULL, (double)br->outbox.unanswered);
}

/* Count what the bounds dropped; logged once per outage (redis_publish_report),
 * or every few seconds while Redis is up but too slow to keep within them. */
static void redis_publish_dropped(struct bus_redis *br, uint64_t dropped)
{
    if (!dropped)
        return;
    br->drops_unlogged += dropped;
    if (br->api->metric_add)
        br->api->metric_add(br->self, "superbot_bus_dropped_total", NULL, (double)dropped);
    uint64_t now = redis_link_monotonic_ms();
    if (br->usable && (!br->drops_logged_ms || now - br->drops_logged_ms >= REDIS_DROP_LOG_EVERY_MS))
        redis_publish_report(br, "while Redis answered too slowly");
}

void redis_publish_report(struct bus_redis *br, const char *when)
{
    if (!br->drops_unlogged)
        return;
    br->api->log(br->self, SBR_LOG_WARN,
                 "%" PRIu64 " published message(s) dropped %s: past outage_buffer_max (%zu), "
                 "outage_buffer_bytes (%zu) or outage_buffer_seconds (%" PRIu64 ")",
                 br->drops_unlogged, when, br->outbox.max_events, br->outbox.max_bytes,
                 br->outbox.max_age_ms / 1000);
    br->drops_unlogged = 0;
    br->drops_logged_ms = redis_link_monotonic_ms();
}

static void redis_publish_lane(struct bus_redis *br, uint32_t lane);

/* An error answer: the message was not published. */
static void redis_publish_refused(struct bus_redis *br, struct redis_node *node, uint32_t lane, const char *error)
{
    struct redis_node *target;
    int asking;
    if (redis_cluster_redirected(br, node, error, &target, &asking) != REDIS_REDIRECT_NONE) {
        /* A shard channel is served by its old master until the migration
         * ends, then MOVED: the lane goes to the new one, in order.  To a
         * master the map does not name yet, once it does (the map is being
         * asked for: redis_publish_resume). */
        if (redis_outbox_redirected(&br->outbox, lane) && target)
            redis_publish_lane(br, lane);
        return;
    }
    char reason[400];
    snprintf(reason, sizeof(reason), "a publish was refused: %s",
             strncmp(error, "NOSCRIPT", 8) == 0 ? "its script cache was flushed" : error);
    /* Not published: new links send it again. */
    redis_link_fail(br, reason);
}

static void redis_publish_answered(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_node *node = ac->data;
    struct bus_redis *br = node->br;
    redisReply *reply = r;
    uint32_t lane = (uint32_t)(uintptr_t)privdata;
    redis_link_answered(node);
    if (!reply || ac != node->cmd)
        return; /* a link given up: its messages were rewound */
    if (reply->type == REDIS_REPLY_ERROR)
        redis_publish_refused(br, node, lane, reply->str);
    else
        redis_outbox_answered(&br->outbox, lane, br->api->now_ms());
}

static int redis_publish_send_one(struct bus_redis *br, struct redis_node *node, const struct redis_outbox_entry *e,
                                  int recent)
{
    const char *verb = redis_pubsub_classic(br, e->channel, e->channel_len) ? "PUBLISH" : "SPUBLISH";
    void *lane = (void *)(uintptr_t)e->lane;
    if (!recent) {
        const char *argv[3] = {verb, e->channel, e->envelope};
        size_t lens[3] = {strlen(verb), e->channel_len, e->envelope_len};
        return redisAsyncCommandArgv(node->cmd, redis_publish_answered, lane, 3, argv, lens);
    }
    size_t stream_len;
    char *stream = redis_publish_stream(br, e->lane, &stream_len);
    char window[24];
    snprintf(window, sizeof(window), "%" PRIu64, br->recent_window_ms);
    const char *sha = br->script_sha[REDIS_SCRIPT_PUBLISH_RECENT];
    const char *argv[8] = {"EVALSHA", sha, "1", stream, e->channel, e->envelope, window, verb};
    size_t lens[8] = {7, strlen(sha), 1, stream_len, e->channel_len, e->envelope_len, strlen(window), strlen(verb)};
    int rc = stream && sha[0] ? redisAsyncCommandArgv(node->cmd, redis_publish_answered, lane, 8, argv, lens)
                              : REDIS_ERR;
    free(stream);
    return rc;
}

static int redis_publish_recent(const struct bus_redis *br, uint32_t lane, uint64_t now)
{
    if (now < br->recent_until_ms)
        return 1;
    return br->mode == REDIS_MODE_CLUSTER && now < br->slot_recent_until[lane];
}

/* Send what waits in a lane, oldest first, while its node takes it. */
static void redis_publish_lane(struct bus_redis *br, uint32_t lane)
{
    struct redis_node *node = redis_route_node(br, lane);
    if (!node)
        return; /* waits for the links, or for the slot's master */
    int recent = redis_publish_recent(br, lane, redis_link_monotonic_ms());
    struct redis_outbox_entry *e;
    while (br->usable && node->cmd && (e = redis_outbox_next(&br->outbox, lane))) {
        if (redis_publish_send_one(br, node, e, recent) != REDIS_OK) {
            redis_link_fail(br, "cannot queue a PUBLISH");
            return;
        }
        redis_outbox_sent(&br->outbox, lane, (uint32_t)node->index + 1);
        redis_link_sent(node);
    }
}

int redis_publish(void *ctx, const char *topic, const char *data, size_t len)
{
    struct bus_redis *br = ctx;
    if (!br || !topic || (!data && len))
        return SBR_ERR_INVALID;
    if (!br->url_text[0])
        return SBR_OK; /* Redis disabled: one worker, nobody else to reach */
    size_t channel_len;
    char *channel = redis_name(br, REDIS_CHANNEL_SPACE, topic, &channel_len);
    uint64_t dropped = br->outbox.dropped;
    uint32_t lane = channel ? redis_pubsub_lane(br, channel, channel_len) : 0;
    int rc = channel ? redis_outbox_push(&br->outbox, lane, br->worker_id, channel, data ? data : "", len,
                                         br->api->now_ms())
                     : -1;
    free(channel);
    if (rc != 0)
        return SBR_ERR_NOMEM;
    redis_publish_dropped(br, br->outbox.dropped - dropped);
    if (br->usable)
        redis_publish_lane(br, lane);
    else
        redis_publish_gauge(br);
    return SBR_OK;
}

void redis_publish_resume(struct bus_redis *br)
{
    if (br->outbox.n_lanes == 1) {
        redis_publish_lane(br, 0);
        return;
    }
    /* In the order of publication: each lane's first waiting entry starts
     * that lane. */
    for (struct redis_outbox_entry *e = br->outbox.oldest; e && br->usable; e = e->newer)
        if (!e->answered && redis_outbox_next(&br->outbox, e->lane) == e)
            redis_publish_lane(br, e->lane);
}

void redis_publish_flush(struct bus_redis *br)
{
    br->recent_until_ms = redis_link_monotonic_ms() + br->recent_window_ms;
    uint64_t dropped = br->outbox.dropped;
    redis_outbox_trim(&br->outbox, br->api->now_ms());
    redis_publish_dropped(br, br->outbox.dropped - dropped);
    size_t waiting = br->outbox.unanswered;
    redis_publish_resume(br);
    if (br->down_since_ms && waiting)
        br->api->log(br->self, SBR_LOG_INFO, "publishing the %zu message(s) kept while Redis was away", waiting);
    redis_publish_report(br, "while Redis was away");
    redis_publish_gauge(br);
}

void redis_publish_lost(struct bus_redis *br)
{
    redis_outbox_rewind(&br->outbox);
    /* What the master answered just before: kept until we know whether the
     * next one is another (redis_replay.c). */
    if (!br->unloading)
        redis_outbox_keep_answered(&br->outbox, br->api->now_ms());
    redis_publish_gauge(br);
}

void redis_publish_node_lost(struct bus_redis *br, struct redis_node *node)
{
    redis_outbox_rewind_link(&br->outbox, (uint32_t)node->index + 1);
}

void redis_publish_clear(struct bus_redis *br)
{
    redis_publish_report(br, "while Redis was away");
    redis_outbox_clear(&br->outbox);
}
