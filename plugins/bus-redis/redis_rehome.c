/* Subscriptions moving between a cluster's masters.
 *
 * A slot whose master changed (MOVED, an unasked "sunsubscribe" from its
 * old master, a map refreshed) is marked moved; redis_pubsub_rehome then
 * subscribes its wanted topics on the new master, and holds every message
 * (redis_receive.c) until (1) the old master confirms it dropped each one
 * (what it delivered comes first; at most connect_timeout_ms) and (2) a PING
 * sent after the subscriptions is answered by the new master, when the
 * slot's recent stream there is read (what was published before we
 * subscribed).  A master whose links die takes its subscriptions with it:
 * their slots are marked moved, to be subscribed wherever the map puts them. */
#include "redis_pubsub.h"

#include <stdlib.h>
#include <string.h>

/* A topic of a node whose subscriber link is gone. */
static void redis_pubsub_orphan(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_sweep *s = userdata;
    int index = s->node;
    if (t->old_node == index) {
        t->old_node = REDIS_NO_NODE;
        s->count++;
    }
    if (t->node != index)
        return;
    t->node = REDIS_NO_NODE;
    t->unsubscribing = 0;
    if (t->wanted)
        s->br->slot_moved[t->slot] = 1;
    else if (s->drop)
        s->drop[s->n_drop++] = t;
}

void redis_pubsub_node_lost(struct bus_redis *br, struct redis_node *node)
{
    redis_pubsub_node_unanswered(node);
    if (br->mode != REDIS_MODE_CLUSTER)
        return;
    struct redis_pubsub_sweep s = {.br = br, .node = node->index};
    s.drop = malloc((strtab_count(br->topics) + 1) * sizeof(*s.drop));
    strtab_foreach(br->topics, redis_pubsub_orphan, &s);
    redis_pubsub_sweep_end(&s);
    /* The PINGs of moves sent there will not be answered. */
    size_t pending = node->rehome_pings - node->rehome_answered;
    node->rehome_answered = node->rehome_pings;
    if (s.count + pending)
        redis_receive_hold_done(br, s.count + pending);
}

/* A topic of the slot a node refused to subscribe (MOVED): not subscribed there. */
static void redis_pubsub_unplaced(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_sweep *s = userdata;
    if (t->slot != s->slot || t->node != s->node)
        return;
    t->node = REDIS_NO_NODE;
    t->unsubscribing = 0;
    if (!t->wanted && s->drop)
        s->drop[s->n_drop++] = t;
}

void redis_pubsub_slot_refused(struct redis_node *node, uint32_t slot)
{
    struct bus_redis *br = node->br;
    struct redis_pubsub_sweep s = {.br = br, .node = node->index, .slot = slot};
    s.drop = malloc((strtab_count(br->topics) + 1) * sizeof(*s.drop));
    strtab_foreach(br->topics, redis_pubsub_unplaced, &s);
    redis_pubsub_sweep_end(&s);
    br->slot_moved[slot] = 1;
}

/* One topic of a moved slot: subscribed on the slot's master now. */
static void redis_pubsub_move(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_sweep *s = userdata;
    struct bus_redis *br = s->br;
    if (br->slot_moved[t->slot] != REDIS_SLOT_MOVING)
        return;
    if (t->unsubscribing) { /* on the old master, which dropped it anyway */
        t->unsubscribing = 0;
        t->node = REDIS_NO_NODE;
    }
    if (!t->wanted) {
        if (t->node == REDIS_NO_NODE && s->drop)
            s->drop[s->n_drop++] = t;
        return;
    }
    /* A classic channel is served by any master: it stays where it is. */
    if (t->classic && t->node != REDIS_NO_NODE && br->nodes[t->node]->in_use && br->nodes[t->node]->sub)
        return;
    struct redis_node *owner = redis_pubsub_owner(br, t->slot);
    if (!owner || t->node == owner->index)
        return;
    if (t->node != REDIS_NO_NODE && t->old_node == REDIS_NO_NODE) {
        t->old_node = t->node; /* hold what comes until it says it dropped us */
        redis_receive_hold_add(br, 1);
    }
    redis_pubsub_subscribe_topic(br, t);
    /* Read the slot's stream once the PING sent after this is answered. */
    br->slot_catchup[t->slot] = owner->rehome_pings + 1;
    s->nodes[owner->index] = 1;
}

static void redis_pubsub_forget_old(void *value, void *userdata)
{
    struct redis_topic *t = value;
    struct redis_pubsub_sweep *s = userdata;
    if (t->old_node != REDIS_NO_NODE) {
        t->old_node = REDIS_NO_NODE;
        s->count++;
    }
}

/* The old masters did not confirm in time: stop holding for them. */
static void redis_pubsub_rehome_expired(void *arg)
{
    struct bus_redis *br = arg;
    br->rehome_timer = 0;
    struct redis_pubsub_sweep s = {.br = br};
    strtab_foreach(br->topics, redis_pubsub_forget_old, &s);
    if (s.count)
        redis_receive_hold_done(br, s.count);
}

/* The subscriptions sent before this PING are in place on node: read the
 * recent streams of their slots, then stop holding for the PING. */
static void redis_pubsub_rehome_pong(struct redis_sublink *link, void *arg)
{
    struct redis_node *node = arg;
    struct bus_redis *br = node->br;
    if (link != node->sub)
        return;
    node->rehome_answered++;
    for (unsigned slot = 0; slot < REDIS_SLOTS; slot++) {
        uint32_t ping = br->slot_catchup[slot];
        if (!ping || ping > node->rehome_answered || br->map->owner[slot] != node->index)
            continue;
        br->slot_catchup[slot] = 0;
        redis_receive_catch_up_slot(br, slot);
    }
    redis_receive_hold_done(br, 1);
}

void redis_pubsub_rehome(struct bus_redis *br)
{
    if (br->mode != REDIS_MODE_CLUSTER || !br->usable)
        return;
    /* The slots whose new master's subscriber link is open move now; the
     * others when it is (redis_link_node_ready calls this again). */
    size_t moving = 0;
    for (unsigned slot = 0; slot < REDIS_SLOTS; slot++)
        if (br->slot_moved[slot] && redis_pubsub_owner(br, slot)) {
            br->slot_moved[slot] = REDIS_SLOT_MOVING;
            moving++;
        }
    if (!moving)
        return;
    unsigned char *nodes = calloc((size_t)br->n_nodes, 1);
    struct redis_pubsub_sweep s = {.br = br, .nodes = nodes};
    s.drop = malloc((strtab_count(br->topics) + 1) * sizeof(*s.drop));
    if (!nodes) {
        free(s.drop);
        redis_link_fail(br, "out of memory while subscribing");
        return;
    }
    strtab_foreach(br->topics, redis_pubsub_move, &s);
    redis_pubsub_sweep_end(&s);
    for (unsigned slot = 0; slot < REDIS_SLOTS; slot++)
        if (br->slot_moved[slot] == REDIS_SLOT_MOVING)
            br->slot_moved[slot] = 0;
    for (int i = 0; i < br->n_nodes; i++) {
        struct redis_node *node = br->nodes[i];
        if (!nodes[i] || !node->sub)
            continue;
        if (redis_sublink_ping(node->sub, redis_pubsub_rehome_pong, node) != 0) {
            free(nodes);
            redis_link_fail(br, "out of memory while subscribing");
            return;
        }
        node->rehome_pings++;
        redis_receive_hold_add(br, 1);
    }
    free(nodes);
    if (br->rehome_timer)
        br->api->timer_stop(br->self, br->rehome_timer);
    br->rehome_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_pubsub_rehome_expired, br);
}

