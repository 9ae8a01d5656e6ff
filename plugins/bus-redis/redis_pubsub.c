/* Subscriptions: one Redis channel per topic (key_prefix + "bus:" + topic),
 * subscribed while the core has an interest in the topic, on the node
 * owning the channel's slot: SUBSCRIBE on one server, SSUBSCRIBE (sharded
 * pub/sub) on a cluster, so each channel's traffic goes through one master
 * and pub/sub capacity grows with the masters.  What arrives goes to
 * redis_receive.c (echo and duplicate filter, catching up).
 *
 * Each topic knows the node it is subscribed on.  A topic wanted again
 * while its UNSUBSCRIBE is in flight is subscribed again only once that
 * answer arrived.  A new subscriber link subscribes every topic its node
 * owns, then sends a PING: its answer ends the handshake, and tells that
 * every topic is subscribed.
 *
 * A cluster moves slots.  The node that loses one unsubscribes its clients
 * from the slot's channels by itself (an unasked "sunsubscribe"), and
 * answers a subscription for it with MOVED: either way the slot is marked
 * moved and the map asked for again (redis_cluster.c), then its wanted
 * topics move to the new master (redis_rehome.c).
 *
 * With the room log on (connection state recovery), a cluster's room topics
 * and this worker's flush markers are classic channels instead: the
 * sequencer script PUBLISHes from the room log's slot, which reaches every
 * master's classic subscribers and no sharded one.  They are subscribed,
 * all together, on the master of the room log's slot (any master would
 * do; that one spares a hop), and stay where they are when slots move.
 * Commands of the room log wait until every SUBSCRIBE sent before them is
 * answered (br->sub_sent, br->sub_acked): a worker hears its own events. */
#include "redis_pubsub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
/* Topics per SUBSCRIBE when a new link subscribes to everything (one server). */
#define REDIS_SUBSCRIBE_BATCH 256

static void redis_topic_free(void *p)
{
    free(p);
}

void redis_topic_drop(struct bus_redis *br, struct redis_topic *t)
{
    if (t->old_node != REDIS_NO_NODE)
        redis_receive_hold_done(br, 1);
    strtab_remove(br->topics, t->topic);
    redis_topic_free(t);
}

static struct redis_topic *redis_topic_new(struct bus_redis *br, const char *topic)
{
    size_t lp = strlen(br->prefix), ls = strlen(REDIS_CHANNEL_SPACE), lt = strlen(topic);
    if (lp + ls + lt > UINT32_MAX)
        return NULL;
    struct redis_topic *t = malloc(sizeof(*t) + lp + ls + lt + 1);
    if (!t)
        return NULL;
    memcpy(t->channel, br->prefix, lp);
    memcpy(t->channel + lp, REDIS_CHANNEL_SPACE, ls);
    memcpy(t->channel + lp + ls, topic, lt + 1);
    t->topic = t->channel + lp + ls;
    t->channel_len = (uint32_t)(lp + ls + lt);
    t->wanted = t->unsubscribing = 0;
    t->node = t->old_node = REDIS_NO_NODE;
    if (strtab_insert(br->topics, t->topic, t) != 0) {
        redis_topic_free(t);
        return NULL;
    }
    t->classic = (uint8_t)redis_pubsub_classic(br, t->channel, t->channel_len);
    t->slot = (uint16_t)redis_pubsub_lane(br, t->channel, t->channel_len);
    return t;
}

const char *redis_pubsub_verb(const struct redis_topic *t, int on)
{
    if (!t->classic)
        return on ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
    return on ? "SUBSCRIBE" : "UNSUBSCRIBE";
}

int redis_pubsub_classic(const struct bus_redis *br, const char *channel, size_t len)
{
    if (br->mode != REDIS_MODE_CLUSTER)
        return 1;
    if (!br->rooms_classic)
        return 0;
    const char *topic = redis_pubsub_topic(br, channel, len);
    return topic && (strncmp(topic, "room:", 5) == 0 || redis_rooms_is_anchor(br, topic));
}

uint32_t redis_pubsub_lane(const struct bus_redis *br, const char *channel, size_t len)
{
    if (br->mode == REDIS_MODE_CLUSTER && redis_pubsub_classic(br, channel, len))
        return redis_rooms_slot(br);
    return redis_route_slot(br, channel, len);
}

/* The node whose subscriber link serves a slot now, or NULL. */
struct redis_node *redis_pubsub_owner(const struct bus_redis *br, uint32_t slot)
{
    if (!br->n_nodes)
        return NULL;
    unsigned owner = br->mode == REDIS_MODE_CLUSTER ? br->map->owner[slot] : 0;
    if (owner >= (unsigned)br->n_nodes)
        return NULL;
    struct redis_node *node = br->nodes[owner];
    return node->in_use && node->sub ? node : NULL;
}

/* Send verb for n topics at once on node's subscriber link. */
static void redis_pubsub_command(struct redis_node *node, const char *verb, struct redis_topic *const *topics,
                                 size_t n)
{
    if (!n)
        return;
    const char **argv = malloc((n + 1) * sizeof(*argv));
    size_t *lens = malloc((n + 1) * sizeof(*lens));
    int rc = -1;
    if (argv && lens) {
        argv[0] = verb;
        lens[0] = strlen(verb);
        for (size_t i = 0; i < n; i++) {
            argv[i + 1] = topics[i]->channel;
            lens[i + 1] = topics[i]->channel_len;
        }
        rc = redis_sublink_send(node->sub, (int)n + 1, argv, lens);
    }
    if (rc == 0 && strcmp(verb, "SUBSCRIBE") == 0) {
        node->sub_unanswered += n;
        node->br->sub_sent += n;
    }
    free(argv);
    free(lens);
    if (rc != 0)
        redis_link_fail(node->br, "out of memory while subscribing");
}

/* Subscribe t where its slot lives, if that link is open (else its
 * handshake, or a rehome, subscribes it). */
void redis_pubsub_subscribe_topic(struct bus_redis *br, struct redis_topic *t)
{
    struct redis_node *node = redis_pubsub_owner(br, t->slot);
    if (!node)
        return;
    t->node = node->index;
    redis_pubsub_command(node, redis_pubsub_verb(t, 1), &t, 1);
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

int redis_pubsub_subscribe(void *ctx, const char *topic)
{
    struct bus_redis *br = ctx;
    if (!br || !topic)
        return SBR_ERR_INVALID;
    struct redis_topic *t = strtab_get(br->topics, topic);
    if (t && t->wanted)
        return SBR_OK;
    if (!t && !(t = redis_topic_new(br, topic)))
        return SBR_ERR_NOMEM;
    t->wanted = 1;
    if (t->node == REDIS_NO_NODE && !t->unsubscribing)
        redis_pubsub_subscribe_topic(br, t);
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
    struct redis_node *node = t->node == REDIS_NO_NODE ? NULL : br->nodes[t->node];
    if (!node || !node->sub) {
        redis_topic_drop(br, t);
        return SBR_OK;
    }
    t->unsubscribing = 1;
    redis_pubsub_command(node, redis_pubsub_verb(t, 0), &t, 1);
    return SBR_OK;
}

/* node says it no longer has topic (our UNSUBSCRIBE answered, or a cluster
 * node dropping a slot it lost). */
static void redis_pubsub_dropped(struct redis_node *node, const char *topic)
{
    struct bus_redis *br = node->br;
    struct redis_topic *t = strtab_get(br->topics, topic);
    if (!t)
        return;
    if (t->old_node == node->index) {
        t->old_node = REDIS_NO_NODE; /* what it delivered came first */
        redis_receive_hold_done(br, 1);
        return;
    }
    if (t->node != node->index)
        return; /* late news of a subscription moved since */
    t->node = REDIS_NO_NODE;
    if (t->unsubscribing) {
        t->unsubscribing = 0;
        if (t->wanted)
            redis_pubsub_subscribe_topic(br, t);
        else
            redis_topic_drop(br, t);
    } else if (t->wanted && br->mode == REDIS_MODE_CLUSTER) {
        br->slot_moved[t->slot] = 1;
        redis_cluster_refresh(br);
    }
}

/* n SUBSCRIBEd channels of node answered (or lost with its link). */
static void redis_pubsub_answered(struct redis_node *node, uint64_t n)
{
    node->sub_unanswered -= n;
    node->br->sub_acked += n;
    redis_rooms_subscribed(node->br);
}

/* An error on a subscriber link: a slot that moved, or the end. */
static void redis_pubsub_error(struct redis_node *node, const char *error)
{
    struct bus_redis *br = node->br;
    struct redis_node *target;
    int asking;
    if (redis_cluster_redirected(br, node, error, &target, &asking) != REDIS_REDIRECT_NONE) {
        struct redis_redirect rd;
        int kind = redis_redirect_parse(error, &rd);
        if (kind == REDIS_REDIRECT_MOVED || kind == REDIS_REDIRECT_ASK)
            redis_pubsub_slot_refused(node, rd.slot);
        /* unserved: the node drops its subscriptions, which marks their slots */
        redis_cluster_refresh(br);
        return;
    }
    /* During the handshake, with a password, the one other command is AUTH. */
    const char *what = !node->ready && br->url.password ? "AUTH failed" : "subscribing failed";
    char reason[600];
    snprintf(reason, sizeof(reason), "%s%s%s: %s", br->n_nodes > 1 ? node->name : "", br->n_nodes > 1 ? ": " : "",
             what, error);
    redis_link_fail(br, reason);
}

/* Every reply of a subscriber link: ["message" | "smessage", channel,
 * envelope], ["subscribe" | "ssubscribe" | "unsubscribe" | "sunsubscribe",
 * channel, count], errors, and the OK of AUTH. */
void redis_pubsub_reply(struct redis_sublink *link, redisReply *reply, void *arg)
{
    struct redis_node *node = arg;
    if (link != node->sub)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        redis_pubsub_error(node, reply->str);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return;
    struct bus_redis *br = node->br;
    const char *kind = reply->element[0]->str;
    const redisReply *channel = reply->element[1];
    const char *topic = redis_pubsub_topic(br, channel->str, channel->len);
    if (!topic)
        return;
    const redisReply *env = reply->element[2];
    int message = strcmp(kind, "message") == 0 || strcmp(kind, "smessage") == 0;
    if (message && env->type == REDIS_REPLY_STRING)
        redis_receive_message(br, topic, redis_pubsub_lane(br, channel->str, channel->len), env->str, env->len);
    else if (strcmp(kind, "unsubscribe") == 0 || strcmp(kind, "sunsubscribe") == 0)
        redis_pubsub_dropped(node, topic);
    else if (strcmp(kind, "subscribe") == 0 && node->sub_unanswered)
        redis_pubsub_answered(node, 1);
}

static void redis_pubsub_handshake_done(struct redis_sublink *link, void *arg)
{
    struct redis_node *node = arg;
    if (link == node->sub)
        redis_node_handshake_step(node, 0);
}

struct redis_pubsub_batch {
    struct redis_node *node;
    struct redis_topic *topics[REDIS_SUBSCRIBE_BATCH];
    size_t n;
};

static void redis_pubsub_batch_add(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_batch *b = userdata;
    struct bus_redis *br = b->node->br;
    if (!t->wanted || redis_pubsub_owner(br, t->slot) != b->node)
        return;
    if (br->mode == REDIS_MODE_CLUSTER && br->slot_moved[t->slot])
        return; /* coming from another master: redis_pubsub_rehome moves it */
    t->node = b->node->index;
    if (!t->classic) { /* one slot per SSUBSCRIBE */
        redis_pubsub_command(b->node, "SSUBSCRIBE", &t, 1);
        return;
    }
    b->topics[b->n++] = t;
    if (b->n == REDIS_SUBSCRIBE_BATCH) {
        redis_pubsub_command(b->node, "SUBSCRIBE", b->topics, b->n);
        b->n = 0;
    }
}

int redis_pubsub_open(struct redis_node *node)
{
    struct redis_pubsub_batch b = {.node = node};
    strtab_foreach(node->br->topics, redis_pubsub_batch_add, &b);
    redis_pubsub_command(node, "SUBSCRIBE", b.topics, b.n);
    return redis_sublink_ping(node->sub, redis_pubsub_handshake_done, node);
}

static void redis_pubsub_forget(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_sweep *s = userdata;
    t->node = t->old_node = REDIS_NO_NODE;
    t->unsubscribing = 0;
    if (!t->wanted && s->drop)
        s->drop[s->n_drop++] = t;
}

/* Drop the topics a sweep collected. */
void redis_pubsub_sweep_end(struct redis_pubsub_sweep *s)
{
    for (size_t i = 0; i < s->n_drop; i++)
        redis_topic_drop(s->br, s->drop[i]);
    free(s->drop);
}

void redis_pubsub_node_unanswered(struct redis_node *node)
{
    if (node->sub_unanswered)
        redis_pubsub_answered(node, node->sub_unanswered);
}

void redis_pubsub_lost(struct bus_redis *br)
{
    for (int i = 0; i < br->n_nodes; i++)
        br->nodes[i]->sub_unanswered = 0;
    br->sub_sent = br->sub_acked = 0;
    if (!br->topics)
        return;
    struct redis_pubsub_sweep s = {.br = br};
    s.drop = malloc((strtab_count(br->topics) + 1) * sizeof(*s.drop));
    strtab_foreach(br->topics, redis_pubsub_forget, &s);
    redis_pubsub_sweep_end(&s);
    if (br->slot_catchup)
        memset(br->slot_catchup, 0, REDIS_SLOTS * sizeof(*br->slot_catchup));
    if (br->slot_moved) /* every subscription is made afresh */
        memset(br->slot_moved, 0, REDIS_SLOTS);
    if (br->rehome_timer) {
        br->api->timer_stop(br->self, br->rehome_timer);
        br->rehome_timer = 0;
    }
}

struct redis_pubsub_slots {
    unsigned char *seen;
    void (*fn)(struct bus_redis *br, uint32_t slot, void *arg);
    void *arg;
    struct bus_redis *br;
};

static void redis_pubsub_slot_of(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_slots *s = userdata;
    if (!t->wanted || s->seen[t->slot])
        return;
    s->seen[t->slot] = 1;
    s->fn(s->br, t->slot, s->arg);
}

void redis_pubsub_foreach_slot(struct bus_redis *br, void (*fn)(struct bus_redis *br, uint32_t slot, void *arg),
                               void *arg)
{
    struct redis_pubsub_slots s = {.fn = fn, .arg = arg, .br = br};
    s.seen = calloc(REDIS_SLOTS, 1);
    if (s.seen)
        strtab_foreach(br->topics, redis_pubsub_slot_of, &s);
    free(s.seen);
}

static void redis_pubsub_reclassify_one(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct bus_redis *br = userdata;
    if (t->node != REDIS_NO_NODE || t->unsubscribing)
        return; /* before the links open, none is */
    t->classic = (uint8_t)redis_pubsub_classic(br, t->channel, t->channel_len);
    t->slot = (uint16_t)redis_pubsub_lane(br, t->channel, t->channel_len);
}

void redis_pubsub_reclassify(struct bus_redis *br)
{
    strtab_foreach(br->topics, redis_pubsub_reclassify_one, br);
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
