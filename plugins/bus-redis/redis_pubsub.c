/* Subscriptions: one Redis channel per topic (key_prefix + "bus:" + topic),
 * subscribed while the core has an interest in the topic; what arrives
 * goes to redis_receive.c (echo and duplicate filter, catching up).
 *
 * hiredis keeps one callback per subscribed channel and forgets it when an
 * UNSUBSCRIBE is answered, and leaves subscriber mode when the count of
 * subscriptions reaches zero.  So the subscriber link holds a private
 * channel of its own for its whole life (the count never reaches zero), and
 * a topic wanted again while its UNSUBSCRIBE is in flight is subscribed
 * again only once that answer arrived.  A new link subscribes every topic
 * first and its own channel last: the answer to that one ends the
 * handshake, and tells that every topic is subscribed. */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
#define REDIS_ANCHOR_SPACE "worker:"
/* Topics per SUBSCRIBE when a new link subscribes to everything. */
#define REDIS_SUBSCRIBE_BATCH 256

struct redis_topic {
    char *topic;        /* also the strtab key */
    int wanted;         /* the core wants its messages */
    int unsubscribing;  /* an UNSUBSCRIBE is unanswered on the current link */
};

static void redis_topic_free(void *p)
{
    struct redis_topic *t = p;
    free(t->topic);
    free(t);
}

static void redis_topic_drop(struct bus_redis *br, struct redis_topic *t)
{
    strtab_remove(br->topics, t->topic);
    redis_topic_free(t);
}

static void redis_pubsub_reply(redisAsyncContext *ac, void *r, void *privdata);

/* Send (UN)SUBSCRIBE for n topics at once. */
static void redis_pubsub_command(struct bus_redis *br, const char *verb, const char *const *topics, size_t n)
{
    if (!br->sub || !n)
        return;
    const char **argv = malloc((n + 1) * sizeof(*argv));
    size_t *lens = malloc((n + 1) * sizeof(*lens));
    char **channels = calloc(n, sizeof(*channels));
    size_t ok = 0;
    if (argv && lens && channels) {
        argv[0] = verb;
        lens[0] = strlen(verb);
        for (; ok < n; ok++) {
            channels[ok] = redis_name(br, REDIS_CHANNEL_SPACE, topics[ok], &lens[ok + 1]);
            if (!channels[ok])
                break;
            argv[ok + 1] = channels[ok];
        }
        if (ok == n && redisAsyncCommandArgv(br->sub, redis_pubsub_reply, NULL, (int)n + 1, argv, lens) == REDIS_OK &&
            strcmp(verb, "SUBSCRIBE") == 0)
            br->sub_sent += n;
    }
    if (channels)
        for (size_t i = 0; i < ok; i++)
            free(channels[i]);
    free(channels);
    free(argv);
    free(lens);
    if (ok != n)
        redis_link_fail(br, "out of memory while subscribing");
}

const char *redis_pubsub_topic(const struct bus_redis *br, const char *channel, size_t len)
{
    size_t lp = strlen(br->prefix), ls = strlen(REDIS_CHANNEL_SPACE);
    if (len < lp + ls || memcmp(channel, br->prefix, lp) != 0 || memcmp(channel + lp, REDIS_CHANNEL_SPACE, ls) != 0)
        return NULL;
    return channel + lp + ls;
}

int redis_pubsub_wanted(const struct bus_redis *br, const char *topic)
{
    const struct redis_topic *t = strtab_get(br->topics, topic);
    return t && t->wanted;
}

/* Every reply of the subscriber link: ["message", channel, envelope],
 * ["subscribe" | "unsubscribe", channel, count]. */
static void redis_pubsub_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    redisReply *reply = r;
    if (!reply || ac != br->sub)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        char reason[300];
        snprintf(reason, sizeof(reason), "SUBSCRIBE failed: %s", reply->str);
        redis_link_fail(br, reason);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = reply->element[0]->str;
    if (strcmp(kind, "subscribe") == 0) {
        if (privdata) { /* the link's own channel: the handshake is over */
            redis_link_handshake_step(br, ac);
            return;
        }
        br->sub_acked++;
        redis_rooms_subscribed(br);
        return;
    }
    const redisReply *channel = reply->element[1];
    if (privdata && strcmp(kind, "message") == 0 && reply->element[2]->type == REDIS_REPLY_STRING) {
        /* On the link's own channel: a flush marker. */
        redis_rooms_marker(br, reply->element[2]->str, reply->element[2]->len);
        return;
    }
    const char *topic =
        channel->type == REDIS_REPLY_STRING ? redis_pubsub_topic(br, channel->str, channel->len) : NULL;
    if (!topic)
        return;
    if (strcmp(kind, "unsubscribe") == 0) {
        struct redis_topic *t = strtab_get(br->topics, topic);
        if (!t || !t->unsubscribing)
            return;
        t->unsubscribing = 0;
        if (t->wanted)
            redis_pubsub_command(br, "SUBSCRIBE", (const char *const *)&t->topic, 1);
        else
            redis_topic_drop(br, t);
        return;
    }
    const redisReply *env = reply->element[2];
    if (strcmp(kind, "message") == 0 && env->type == REDIS_REPLY_STRING)
        redis_receive_message(br, topic, env->str, env->len);
}

static void redis_pubsub_resubscribe(struct bus_redis *br);

int redis_pubsub_open(struct bus_redis *br, redisAsyncContext *ac)
{
    br->sub_sent = br->sub_acked = 0;
    redis_pubsub_resubscribe(br);
    size_t len;
    char *anchor = redis_name(br, REDIS_ANCHOR_SPACE, br->worker_id, &len);
    if (!anchor)
        return -1;
    const char *argv[2] = {"SUBSCRIBE", anchor};
    size_t lens[2] = {9, len};
    /* A non-NULL privdata marks the answer that ends the handshake. */
    int rc = redisAsyncCommandArgv(ac, redis_pubsub_reply, br, 2, argv, lens);
    free(anchor);
    return rc == REDIS_OK ? 0 : -1;
}

int redis_pubsub_subscribe(void *ctx, const char *topic)
{
    struct bus_redis *br = ctx;
    if (!br || !topic)
        return SBR_ERR_INVALID;
    struct redis_topic *t = strtab_get(br->topics, topic);
    if (t && t->wanted)
        return SBR_OK;
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t || !(t->topic = strdup(topic)) || strtab_insert(br->topics, t->topic, t) != 0) {
            if (t)
                free(t->topic);
            free(t);
            return SBR_ERR_NOMEM;
        }
    }
    t->wanted = 1;
    if (br->sub && !t->unsubscribing)
        redis_pubsub_command(br, "SUBSCRIBE", (const char *const *)&t->topic, 1);
    return SBR_OK;
}

int redis_pubsub_unsubscribe(void *ctx, const char *topic)
{
    struct bus_redis *br = ctx;
    if (!br || !topic)
        return SBR_ERR_INVALID;
    struct redis_topic *t = strtab_get(br->topics, topic);
    if (!t || !t->wanted)
        return SBR_OK;
    t->wanted = 0;
    if (t->unsubscribing)
        return SBR_OK;
    if (!br->sub) {
        redis_topic_drop(br, t);
        return SBR_OK;
    }
    t->unsubscribing = 1;
    redis_pubsub_command(br, "UNSUBSCRIBE", (const char *const *)&t->topic, 1);
    return SBR_OK;
}

struct redis_pubsub_batch {
    struct bus_redis *br;
    const char *topics[REDIS_SUBSCRIBE_BATCH];
    size_t n;
    struct redis_topic **unwanted;
    size_t nunwanted;
};

static void redis_pubsub_batch_add(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_batch *b = userdata;
    t->unsubscribing = 0; /* a new link has no subscription to drop */
    if (!t->wanted) {
        if (b->unwanted)
            b->unwanted[b->nunwanted++] = t;
        return;
    }
    b->topics[b->n++] = t->topic;
    if (b->n == REDIS_SUBSCRIBE_BATCH) {
        redis_pubsub_command(b->br, "SUBSCRIBE", b->topics, b->n);
        b->n = 0;
    }
}

static void redis_pubsub_resubscribe(struct bus_redis *br)
{
    struct redis_pubsub_batch b = {.br = br};
    b.unwanted = malloc((strtab_count(br->topics) + 1) * sizeof(*b.unwanted));
    strtab_foreach(br->topics, redis_pubsub_batch_add, &b);
    redis_pubsub_command(br, "SUBSCRIBE", b.topics, b.n);
    for (size_t i = 0; i < b.nunwanted; i++)
        redis_topic_drop(br, b.unwanted[i]);
    free(b.unwanted);
}

int redis_pubsub_init(struct bus_redis *br)
{
    br->topics = strtab_new();
    return br->topics ? 0 : -1;
}

void redis_pubsub_clear(struct bus_redis *br)
{
    strtab_free(br->topics, redis_topic_free);
    br->topics = NULL;
}
