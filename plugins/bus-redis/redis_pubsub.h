/* Private to redis_pubsub.c (subscriptions) and redis_rehome.c (their
 * moves on a cluster): a topic's subscription state, and the helpers both use. */
#ifndef SBR_BUS_REDIS_PUBSUB_H
#define SBR_BUS_REDIS_PUBSUB_H

#include "bus_redis.h"

/* br->slot_moved: 1 marked, this while redis_pubsub_rehome moves it. */
#define REDIS_SLOT_MOVING 2

struct redis_topic {
    const char *topic;      /* inside channel; also the strtab key */
    uint32_t channel_len;
    uint16_t slot;          /* the channel's (0 but on a cluster; the room log's slot when classic) */
    uint8_t classic;        /* SUBSCRIBE, not SSUBSCRIBE (all but on a cluster; there, room
                             * topics and the flush markers while the room log is on) */
    uint8_t wanted;         /* the core wants its messages */
    uint8_t unsubscribing;  /* an UNSUBSCRIBE is unanswered on `node` */
    int16_t node;           /* subscribed (or being) on that node, or REDIS_NO_NODE */
    int16_t old_node;       /* its slot moved: still subscribed there until it says otherwise */
    char channel[];         /* key_prefix + "bus:" + topic: one allocation per topic, as every
                             * user's own room is a topic (bytes per idle connection) */
};

/* A pass over every topic (strtab_foreach), collecting what to drop after. */
struct redis_pubsub_sweep {
    struct bus_redis *br;
    struct redis_topic **drop;
    size_t n_drop;
    size_t count;
    unsigned char *nodes; /* nodes subscribed on in this rehome */
    int node;             /* the node lost, or refusing a slot */
    uint32_t slot;        /* the slot refused */
};

/* Forget t, which nobody wants (its subscription is gone). */
void redis_topic_drop(struct bus_redis *br, struct redis_topic *t);
/* SUBSCRIBE or SSUBSCRIBE (on 1), UNSUBSCRIBE or SUNSUBSCRIBE, for t. */
const char *redis_pubsub_verb(const struct redis_topic *t, int on);
/* The node whose subscriber link serves a slot now, or NULL. */
struct redis_node *redis_pubsub_owner(const struct bus_redis *br, uint32_t slot);
/* node's subscriber link is gone: its SUBSCRIBEs will not be answered. */
void redis_pubsub_node_unanswered(struct redis_node *node);
/* Subscribe t where its slot lives, if that link is open. */
void redis_pubsub_subscribe_topic(struct bus_redis *br, struct redis_topic *t);
/* Drop the topics a sweep collected, and free its list. */
void redis_pubsub_sweep_end(struct redis_pubsub_sweep *s);
/* node answered MOVED to a subscription in slot (it is not the slot's
 * master): no topic of that slot is subscribed there; the slot moves. */
void redis_pubsub_slot_refused(struct redis_node *node, uint32_t slot);

#endif
