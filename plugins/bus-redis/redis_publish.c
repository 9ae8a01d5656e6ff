/* Publishing through the outage buffer.  A message is done only when Redis
 * answered its PUBLISH: until then it stays in the buffer, and a link lost
 * meanwhile (closed, refused, or silent past connect_timeout_ms) sends it
 * again on the next one, before anything newer.
 *
 * The workers do not all get Redis back at the same moment (each retries
 * on its own backoff), and Redis does not keep a message for a subscriber
 * that is not connected yet.  So for recent_window_ms after connecting, a
 * worker also appends what it publishes to a short stream in Redis, read
 * by every worker when it (re)connects (redis_receive.c): what this worker
 * sends first after an outage reaches the workers that come back after it. */
#include "bus_redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
/* At most one log line about dropped messages per this many ms while the link is up. */
#define REDIS_DROP_LOG_EVERY_MS 10000

void redis_publish_init(struct bus_redis *br, size_t max_events, size_t max_bytes, uint64_t max_age_ms)
{
    redis_outbox_init(&br->outbox, max_events, max_bytes, max_age_ms);
    /* Long enough for the slowest worker to come back: a whole backoff
     * step, a connection attempt that was already waiting, and a margin. */
    br->recent_window_ms = br->reconnect_max_ms + 2 * br->connect_timeout_ms + 2000;
}

static void redis_publish_gauge(struct bus_redis *br)
{
    if (br->api->metric_set)
        br->api->metric_set(br->self, "superbot_bus_outage_buffered_messages", NULL, (double)br->outbox.count);
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

static void redis_publish_answered(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    redisReply *reply = r;
    redis_link_answered(br);
    if (!reply || ac != br->cmd)
        return; /* a link given up: its messages were rewound */
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        /* Not published.  A new link loads the script and sends it again. */
        redis_link_fail(br, "its script cache was flushed");
        return;
    }
    redis_outbox_answered(&br->outbox);
}

static int redis_publish_send_one(struct bus_redis *br, const struct redis_outbox_entry *e, int recent)
{
    if (!recent) {
        const char *argv[3] = {"PUBLISH", e->channel, e->envelope};
        size_t lens[3] = {7, e->channel_len, e->envelope_len};
        return redisAsyncCommandArgv(br->cmd, redis_publish_answered, NULL, 3, argv, lens);
    }
    size_t stream_len;
    char *stream = redis_name(br, REDIS_RECENT_SPACE, "", &stream_len);
    char window[24];
    snprintf(window, sizeof(window), "%" PRIu64, br->recent_window_ms);
    const char *sha = br->script_sha[REDIS_SCRIPT_PUBLISH_RECENT];
    const char *argv[7] = {"EVALSHA", sha, "1", stream, e->channel, e->envelope, window};
    size_t lens[7] = {7, strlen(sha), 1, stream_len, e->channel_len, e->envelope_len, strlen(window)};
    int rc = stream && sha[0] ? redisAsyncCommandArgv(br->cmd, redis_publish_answered, NULL, 7, argv, lens)
                              : REDIS_ERR;
    free(stream);
    return rc;
}

/* Send what waits, oldest first, while the link takes it. */
static void redis_publish_send(struct bus_redis *br)
{
    int recent = redis_link_monotonic_ms() < br->recent_until_ms;
    struct redis_outbox_entry *e;
    while (br->usable && br->cmd && (e = redis_outbox_next(&br->outbox))) {
        if (redis_publish_send_one(br, e, recent) != REDIS_OK) {
            redis_link_fail(br, "cannot queue a PUBLISH");
            return;
        }
        redis_outbox_sent(&br->outbox);
        redis_link_sent(br);
    }
}

int redis_publish(void *ctx, const char *topic, const char *data, size_t len)
{
    struct bus_redis *br = ctx;
    if (!br || !topic || (!data && len))
        return SBR_ERR_INVALID;
    if (!br->url_text[0])
        return SBR_OK; /* Redis disabled: one worker, nobody else to reach */
    char *channel = redis_name(br, REDIS_CHANNEL_SPACE, topic, NULL);
    uint64_t dropped = br->outbox.dropped;
    int rc = channel ? redis_outbox_push(&br->outbox, br->worker_id, channel, data ? data : "", len,
                                         br->api->now_ms())
                     : -1;
    free(channel);
    if (rc != 0)
        return SBR_ERR_NOMEM;
    redis_publish_dropped(br, br->outbox.dropped - dropped);
    if (br->usable)
        redis_publish_send(br);
    else
        redis_publish_gauge(br);
    return SBR_OK;
}

void redis_publish_flush(struct bus_redis *br)
{
    br->recent_until_ms = redis_link_monotonic_ms() + br->recent_window_ms;
    uint64_t dropped = br->outbox.dropped;
    redis_outbox_trim(&br->outbox, br->api->now_ms());
    redis_publish_dropped(br, br->outbox.dropped - dropped);
    size_t waiting = br->outbox.count;
    redis_publish_send(br);
    if (br->down_since_ms && waiting)
        br->api->log(br->self, SBR_LOG_INFO, "publishing the %zu message(s) kept while Redis was away", waiting);
    redis_publish_report(br, "while Redis was away");
    redis_publish_gauge(br);
}

void redis_publish_lost(struct bus_redis *br)
{
    redis_outbox_rewind(&br->outbox);
    redis_publish_gauge(br);
}

void redis_publish_clear(struct bus_redis *br)
{
    redis_publish_report(br, "while Redis was away");
    redis_outbox_clear(&br->outbox);
}
