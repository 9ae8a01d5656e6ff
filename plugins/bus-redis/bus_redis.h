/* bus-redis internals shared by its files.
 *
 * Where Redis is (redis_url.h): one server (redis_link.c), the master a set
 * of sentinels names and follows across a failover (redis_sentinel.c), or
 * the masters of a Redis Cluster with the slot each key and channel hashes
 * to (redis_cluster.c, redis_slotmap.h, redis_slot.h); the sentinels and the
 * cluster's seeds are asked on connections of their own (redis_probe.c),
 * every host name resolved without blocking (redis_resolve.c).  Each server
 * in use is a node (redis_node.c): a command link (hiredis async) and a
 * subscriber link (redis_sublink.h).  The bus is usable while every node's
 * links are up: then every command goes to the node owning its key's slot,
 * following MOVED and ASK (redis_route.c), and every channel is subscribed
 * on the node owning its slot (sharded pub/sub on a cluster: redis_pubsub.c),
 * following its slot when it moves (redis_rehome.c).
 *
 * What goes through: the state operations (redis_state.c, scripts in
 * redis_scripts.c), what was answered in-process written back
 * (redis_writeback.c), publishing through the outage buffer
 * (redis_publish.c, redis_outbox.c), receiving (redis_receive.c,
 * redis_dedup.c), what a failover may have lost sent again
 * (redis_replay.c), the room log of connection state recovery
 * (redis_rooms.c), and what /healthz and /metrics say (redis_health.c).
 * While Redis is not usable every state call is answered by the embedded
 * in-process store (local_bus), and every publish waits in the outage
 * buffer. */
#ifndef SBR_BUS_REDIS_H
#define SBR_BUS_REDIS_H

#include "local_bus.h"
#include "redis_dedup.h"
#include "redis_envelope.h"
#include "redis_outbox.h"
#include "redis_slot.h"
#include "redis_slotmap.h"
#include "redis_sublink.h"
#include "redis_url.h"
#include "strtab.h"

#include <event2/dns.h>
#include <hiredis/async.h>
#include <superbot-realtime/plugin.h>

/* The worker id heading each published message (redis_envelope.h): the
 * core's identity (api->worker_id), padded with '.' to the envelope's
 * width. */
#define BUS_REDIS_WORKER_ID_LEN REDIS_ENVELOPE_ID_LEN
#define REDIS_NO_NODE (-1)

enum redis_script {
    REDIS_SCRIPT_KV_GET,
    REDIS_SCRIPT_RESERVE,
    REDIS_SCRIPT_MAP_SET,
    REDIS_SCRIPT_MAP_DEL,
    REDIS_SCRIPT_MAP_GET_ALL,
    REDIS_SCRIPT_MAP_COUNT,
    REDIS_SCRIPT_INCR,
    REDIS_SCRIPT_RESERVE_EXTEND,
    REDIS_SCRIPT_PUBLISH_RECENT,
    REDIS_SCRIPT_ROOM_PUBLISH, /* the room log's (redis_rooms_scripts.c) */
    REDIS_SCRIPT_ROOM_REPLAY,
    REDIS_SCRIPT_ROOM_FLOOR,
    REDIS_SCRIPT_ROOM_FLUSH,
    REDIS_SCRIPT_COUNT_
};

enum redis_op_kind {
    REDIS_OP_KV_SET,
    REDIS_OP_KV_GET,
    REDIS_OP_KV_DEL,
    REDIS_OP_RESERVE,
    REDIS_OP_MAP_SET,
    REDIS_OP_MAP_DEL,
    REDIS_OP_MAP_GET_ALL,
    REDIS_OP_MAP_COUNT,
    REDIS_OP_INCR
};

/* A message received while catching up (redis_receive.c). */
struct redis_held {
    struct redis_held *next;
    uint32_t lane;
    size_t envelope_len;
    char *topic;    /* points into data */
    char *envelope; /* points into data */
    char data[];
};

/* One Redis server the gateway talks to.  Allocated once and kept until
 * unload (hiredis may call back with a node's context after it was let go). */
struct redis_node {
    struct bus_redis *br;
    int index;                    /* in br->nodes */
    char host[REDIS_HOST_MAX];    /* as the URL, the sentinels or the slot map name it */
    int port;
    char name[REDIS_HOST_MAX + 8];/* host:port, for logs and metric labels */
    char address[64];             /* the host's address for this attempt */
    struct evdns_getaddrinfo_request *resolving;
    redisAsyncContext *cmd;       /* commands and publishes */
    struct redis_sublink *sub;    /* subscriptions */
    int cmd_handshake;            /* handshake replies still awaited */
    int sub_handshake;
    int ready;                    /* both links up and handshaken */
    int in_use;                   /* part of the current topology */
    int lost;                     /* its links died: is it still a master? (cluster) */
    int metric_up;                /* last value of its link_up gauge (-1: none yet) */
    uint64_t inflight;            /* commands sent, not yet answered */
    uint64_t last_progress_ms;    /* monotonic: last answer, or first send */
    uint32_t rehome_pings;        /* PINGs sent after moved subscriptions, on this link */
    uint32_t rehome_answered;     /* and answered */
    uint64_t sub_unanswered;      /* channels SUBSCRIBEd on its subscriber link, not yet answered */
};

/* A one-shot question to a server that is no node: a sentinel (which
 * master?) or a cluster seed (which slots?) (redis_probe.c). */
struct redis_probe;
typedef void (*redis_probe_fn)(struct redis_probe *p, redisReply *reply, const char *error);
struct redis_probe {
    struct bus_redis *br;
    redisAsyncContext *ac;
    struct evdns_getaddrinfo_request *resolving;
    sbr_timer_id timer;
    char host[REDIS_HOST_MAX];
    int port;
    char address[64];
    const char *user, *password;  /* AUTH first, when password is set */
    const char *argv[4];
    int argc;
    redis_probe_fn done;
    int busy;
};

struct bus_redis {
    sbr_plugin *self;
    const sbr_api *api;
    local_bus *local;

    struct redis_url url;
    enum redis_mode mode;
    char url_text[300];           /* for logs, without credentials */
    char *prefix;                 /* key_prefix */
    uint64_t connect_timeout_ms;  /* also the longest wait for an answer */
    uint64_t reconnect_max_ms;
    char worker_id[BUS_REDIS_WORKER_ID_LEN + 1];

    struct evdns_base *dns;       /* resolves host names without blocking */

    /* The nodes: [0] alone for a single server or a sentinel set's master,
     * the masters of the slot map for a cluster. */
    struct redis_node **nodes;
    int n_nodes;                  /* allocated (in use or not) */
    int usable;                   /* every node in use ready: answer from Redis */
    int connecting;               /* nodes are being connected */
    int closing;                  /* redis_link_close is running */
    int state;                    /* last enum sbr_bus_state reported */
    int unloading;

    sbr_timer_id connect_timer;
    sbr_timer_id retry_timer;
    sbr_timer_id watchdog_timer;
    sbr_timer_id reap_timer;
    uint64_t backoff_ms;
    uint64_t jitter;              /* random state for the backoff's jitter */
    unsigned attempts;            /* failed attempts since the last success */
    int ever_connected;

    uint64_t errors_unlogged;     /* error answers since the last log line */
    uint64_t error_logged_ms;

    strtab *topics;               /* topic -> struct redis_topic (redis_pubsub.c) */
    uint64_t sub_sent;            /* channels SUBSCRIBEd (classic) since the links opened */
    uint64_t sub_acked;           /* and answered (or their link lost): all sent before are in force */
    int rooms_classic;            /* cluster with the room log on: room topics on classic SUBSCRIBE */
    struct redis_rooms *rooms;    /* the room log (redis_rooms.c) */
    char script_sha[REDIS_SCRIPT_COUNT_][41];

    /* Sentinel (redis_sentinel.c). */
    struct redis_probe probe;     /* also the cluster's seeds */
    size_t sentinel_next;         /* the sentinel to ask first */
    size_t probe_tries;           /* servers asked in this discovery */
    struct evdns_getaddrinfo_request *sentinel_resolving;
    char *sentinel_user, *sentinel_password;
    struct redis_sublink *sentinel_watch; /* +switch-master */
    size_t sentinel_watching;     /* index of the sentinel watched */
    int sentinel_watch_up;        /* its SUBSCRIBE was answered */
    sbr_timer_id sentinel_timer;  /* watch again after a loss */
    char switched_host[REDIS_HOST_MAX]; /* announced by +switch-master, tried first */
    int switched_port;
    char master_host[REDIS_HOST_MAX];   /* the master of the last connection */
    int master_port;

    /* Cluster (redis_cluster.c). */
    struct redis_slotmap *map;    /* owner[] are indexes in nodes */
    char (*slot_tags)[REDIS_SLOT_TAG_SIZE];
    uint64_t *slot_recent_until;  /* per slot: publishes also go to its recent stream until then */
    unsigned char *slot_moved;    /* per slot: its subscriptions must find their new master */
    uint32_t *slot_catchup;       /* per slot: read its stream after that rehome PING (0: no) */
    sbr_timer_id rehome_timer;    /* stop holding for old masters that do not confirm */
    int refreshing;               /* a CLUSTER SLOTS is in flight */
    int refresh_again;            /* another was asked for meanwhile */
    int refresh_next;             /* the node to ask next */
    struct redis_routed *retrying;/* commands waiting to be sent again (TRYAGAIN) */
    size_t seed_next;             /* the seed to ask first */

    /* Publishing (redis_publish.c). */
    struct redis_outbox outbox;
    size_t outbox_max_events, outbox_max_bytes;
    uint64_t outbox_max_age_ms;
    uint64_t recent_window_ms;    /* how long after connecting publishes also go to the recent stream */
    uint64_t recent_until_ms;     /* monotonic end of the current window */
    uint64_t drops_unlogged;      /* dropped since the last log line */
    uint64_t drops_logged_ms;
    uint64_t down_since_ms;       /* monotonic: when Redis was lost (0: not lost) */

    /* Receiving (redis_receive.c). */
    redis_dedup *dedup;
    size_t holds;                 /* reasons to hold messages (links opening, stream reads, moves) */
    int hold_overflow;            /* past the bound: delivering at once until no reason is left */
    uint64_t hold_generation;     /* the links' lives: answers to older reads change nothing */
    struct redis_held *held_head, **held_tail;
    size_t held_count;

    /* State answered in-process while Redis was away (redis_writeback.c). */
    strtab *dirty;                /* key -> struct redis_dirty */
    uint64_t dirty_dropped;       /* not recorded for want of room since the last report */

    /* After a failover (redis_replay.c). */
    uint64_t replay_ms;           /* failover_replay_ms */
    struct redis_change *changes_head, **changes_tail;
    size_t changes_count;
};

/* redis_link.c: the life of the links (find the nodes, connect them,
 * handshake, notice failures, fall back to in-process, retry with capped
 * exponential backoff), and the reports of each change of state. */
void redis_link_init(struct bus_redis *br);
void redis_link_start(struct bus_redis *br);
void redis_link_stop(struct bus_redis *br);
/* Give up every link (reason for the log) and retry after a backoff. */
void redis_link_fail(struct bus_redis *br, const char *reason);
/* As redis_link_fail, retrying at once (a failover was announced). */
void redis_link_fail_now(struct bus_redis *br, const char *reason);
/* The nodes in use are known (their host and port set): connect them. */
void redis_link_connect_nodes(struct bus_redis *br);
/* A node finished its handshake; all of them: the bus is usable. */
void redis_link_node_ready(struct bus_redis *br);
/* Masters were added to a cluster in use: they must be ready within connect_timeout_ms. */
void redis_link_watch_new_nodes(struct bus_redis *br);
/* Close the nodes no longer in use once they owe no answer. */
void redis_link_reap(struct bus_redis *br);
/* Count a command sent on a node's command link (for the watchdog), and its answer. */
void redis_link_sent(struct redis_node *node);
void redis_link_answered(struct redis_node *node);
/* key_prefix + space + name (malloc'd), its length in *len (may be NULL). */
char *redis_name(const struct bus_redis *br, const char *space, const char *name, size_t *len);
uint64_t redis_link_monotonic_ms(void);
/* Resolve host without blocking (an IP literal at once), then call fn with
 * its address (IPv4 preferred) or NULL and a reason.  *pending holds the
 * request while it runs (cancelled by redis_resolve_cancel). */
typedef void (*redis_resolved_fn)(void *arg, const char *address, const char *error);
void redis_resolve(struct bus_redis *br, const char *host, struct evdns_getaddrinfo_request **pending,
                   redis_resolved_fn fn, void *arg);
void redis_resolve_cancel(struct evdns_getaddrinfo_request **pending);

/* redis_node.c: one server's two links and their handshakes. */
/* The node for host:port (reused if known, else added): NULL when out of memory. */
struct redis_node *redis_node_get(struct bus_redis *br, const char *host, int port);
/* Resolve, connect both links and queue their handshakes. */
void redis_node_open(struct redis_node *node);
/* Close both links (their pending commands are answered NULL). */
void redis_node_close(struct redis_node *node);
/* One handshake answer arrived on a link of node. */
void redis_node_handshake_step(struct redis_node *node, int commands);
void redis_nodes_free(struct bus_redis *br);

/* redis_probe.c */
/* Connect to host:port, AUTH if p->password, send p->argv, call p->done
 * once with the answer or an error (within connect_timeout_ms).  The probe
 * must be idle. */
void redis_probe_start(struct redis_probe *p, const char *host, int port);
/* Abandon it: done is not called. */
void redis_probe_stop(struct redis_probe *p);

/* redis_sentinel.c: which master, and following a failover. */
int redis_sentinel_init(struct bus_redis *br);
/* Ask the sentinels in turn; then connect the master it names. */
void redis_sentinel_discover(struct bus_redis *br);
/* The master's links are up: watch for its failover on the sentinel that answered. */
void redis_sentinel_connected(struct bus_redis *br);
void redis_sentinel_stop(struct bus_redis *br);

/* redis_cluster.c: the slot map, its refreshes, redirections. */
int redis_cluster_init(struct bus_redis *br);
/* Ask the seeds (then the masters known) in turn for the slot map; then connect its masters. */
void redis_cluster_discover(struct bus_redis *br);
/* Ask a node for the slot map again (at most one question at a time). */
void redis_cluster_refresh(struct bus_redis *br);
/* A command was answered `error`: 1 with the node to send it to again
 * (*asking: with ASKING first; NULL target: not now, answer it otherwise)
 * for MOVED, ASK or TRYAGAIN, 0 for any other error. */
int redis_cluster_redirected(struct bus_redis *br, struct redis_node *from, const char *error,
                             struct redis_node **target, int *asking);
void redis_cluster_free(struct bus_redis *br);
/* A node's links died while the cluster is in use: close them, send again
 * what was in flight there once its slots' master is known, and ask the
 * map whether it is still a master (then the bus is down) or left. */
void redis_cluster_node_lost(struct redis_node *node, const char *reason);

/* redis_route.c: where a key or channel lives, and commands that follow
 * redirections. */
/* The lane (the slot on a cluster, else 0) of a Redis key or channel name. */
uint32_t redis_route_slot(const struct bus_redis *br, const char *name, size_t len);
/* The node serving a slot now, or NULL (not usable, the slot has no
 * master, or its master is still connecting). */
struct redis_node *redis_route_node(const struct bus_redis *br, uint32_t slot);
/* Send a command about slot to its node, following MOVED, ASK and TRYAGAIN;
 * fn gets the final answer (NULL if the link died or the command could
 * not be placed) with privdata, and the node that answered (NULL then).
 * Returns 0, or -1 when it cannot be sent now (fn not called). */
typedef void (*redis_route_fn)(struct redis_node *node, redisReply *reply, void *privdata);
int redis_route_command(struct bus_redis *br, uint32_t slot, int argc, const char **argv, const size_t *lens,
                        redis_route_fn fn, void *privdata);
/* The links are gone: commands waiting to be sent again get NULL. */
void redis_route_clear(struct bus_redis *br);

/* redis_scripts.c */
const char *redis_script_source(enum redis_script script);

/* redis_state.c */
int redis_state_kv_set(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                       sbr_state_done_fn done, void *userdata);
int redis_state_kv_get(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int redis_state_kv_del(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int redis_state_reserve(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
int redis_state_incr(void *ctx, const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done,
                     void *userdata);
int redis_state_map_set(void *ctx, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                        sbr_state_done_fn done, void *userdata);
int redis_state_map_del(void *ctx, const char *key, const char *field, sbr_state_done_fn done, void *userdata);
int redis_state_map_get_all(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int redis_state_map_count(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
/* The Redis names of a key ("kv:") or of a map's two keys ("map:",
 * "mapx:"), hash-tagged on a cluster so a map's keys share a slot. */
char *redis_state_kv_name(const struct bus_redis *br, const char *key, size_t *len);
char *redis_state_map_name(const struct bus_redis *br, const char *key, int deadlines, size_t *len);

/* redis_writeback.c: a state change answered in-process while Redis was
 * away is recorded (the last one per key or field), and written to Redis
 * when it is back: what is still live with its time left, what was
 * deleted deleted, reservations only ever lengthened. */
int redis_writeback_init(struct bus_redis *br);
void redis_writeback_note(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field);
/* Send every recorded change (the links just came up). */
void redis_writeback_flush(struct bus_redis *br);
void redis_writeback_clear(struct bus_redis *br);

/* redis_replay.c: sentinel only.  What the master answered in the last
 * failover_replay_ms may be lost with it when a replica takes over (it
 * kept taking writes until the switch was announced): after a switch to
 * another master, those messages are published again (receivers drop what
 * they had) and those state changes written back. */
void redis_replay_init(struct bus_redis *br, uint64_t replay_ms);
/* Redis answered a state change: remember it for replay_ms. */
void redis_replay_note(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field);
/* Connected to a master: if it is not the last one, queue the replays. */
void redis_replay_switched(struct bus_redis *br);
void redis_replay_clear(struct bus_redis *br);

/* redis_pubsub.c: one Redis channel per topic (key_prefix + "bus:" +
 * topic), subscribed on the node owning its slot while the core wants it;
 * redis_rehome.c: moved when its slot moves. */
int redis_pubsub_init(struct bus_redis *br);
/* Queue a node's subscriber handshake: every wanted topic it owns, then a
 * PING whose answer ends it; -1 on failure. */
int redis_pubsub_open(struct redis_node *node);
/* Every reply of a node's subscriber link. */
void redis_pubsub_reply(struct redis_sublink *link, redisReply *reply, void *arg);
int redis_pubsub_subscribe(void *ctx, const char *topic);
int redis_pubsub_unsubscribe(void *ctx, const char *topic);
/* 1 if a channel of ours is subscribed with classic SUBSCRIBE (every
 * channel but on a cluster; there, room topics and the flush markers while
 * the room log is on), 0 if with SSUBSCRIBE. */
int redis_pubsub_classic(const struct bus_redis *br, const char *channel, size_t len);
/* The lane of a channel: its slot, or the room log's for a classic channel
 * on a cluster (0 on one server). */
uint32_t redis_pubsub_lane(const struct bus_redis *br, const char *channel, size_t len);
/* The topic of a Redis channel of ours (NUL-terminated in it), or NULL. */
const char *redis_pubsub_topic(const struct bus_redis *br, const char *channel, size_t len);
/* The room log was turned on: topics not subscribed yet take their
 * classic or sharded form again. */
void redis_pubsub_reclassify(struct bus_redis *br);
/* 1 if the core wants the topic's messages. */
int redis_pubsub_wanted(const struct bus_redis *br, const char *topic);
/* The map changed: subscribe on their new master the wanted topics of the
 * slots marked moved (br->slot_moved), then read those slots' recent streams. */
void redis_pubsub_rehome(struct bus_redis *br);
/* The links are gone: no topic is subscribed anywhere. */
void redis_pubsub_lost(struct bus_redis *br);
/* One node's subscriber link is gone: its topics are subscribed nowhere
 * (marked to move once their slots' master is known). */
void redis_pubsub_node_lost(struct bus_redis *br, struct redis_node *node);
/* Call fn for each slot holding a wanted topic (once each). */
void redis_pubsub_foreach_slot(struct bus_redis *br, void (*fn)(struct bus_redis *br, uint32_t slot, void *arg),
                               void *arg);
void redis_pubsub_clear(struct bus_redis *br);

/* redis_publish.c: every publish goes through the outage buffer; sent at
 * once while Redis is usable, kept while it is not, and sent first, in
 * order, once it is back.  For recent_window_ms after (re)connecting, and
 * after a cluster slot moved, a publish is also appended to the recent
 * stream of its slot, where workers that come back later (or subscribe on
 * the slot's new master later) read what they missed (redis_receive.c). */
int redis_publish_init(struct bus_redis *br, size_t max_events, size_t max_bytes, uint64_t max_age_ms);
int redis_publish(void *ctx, const char *topic, const char *data, size_t len);
/* The links are up: open the recent window and send what waits. */
void redis_publish_flush(struct bus_redis *br);
/* Send what waits in every lane that may send (after a map change). */
void redis_publish_resume(struct bus_redis *br);
/* The links are gone: what was in flight waits again. */
void redis_publish_lost(struct bus_redis *br);
/* One node's links are gone: what was in flight on them waits again. */
void redis_publish_node_lost(struct bus_redis *br, struct redis_node *node);
/* Log (once) what the bounds dropped since the last report. */
void redis_publish_report(struct bus_redis *br, const char *when);
void redis_publish_clear(struct bus_redis *br);
/* The recent stream of a slot: key_prefix + "bus:recent" (one Redis), or
 * key_prefix + "bus:recent:{" + tag + "}" in the slot (cluster).  malloc'd. */
char *redis_publish_stream(const struct bus_redis *br, uint32_t slot, size_t *len);
#define REDIS_RECENT_SPACE "bus:recent"

/* redis_receive.c: a message from a subscriber link goes to the core
 * unless it is our own echo or a duplicate; while catching up (from the
 * opening of the links until the recent streams are read) it is held. */
int redis_receive_init(struct bus_redis *br);
void redis_receive_message(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope, size_t len);
/* on: new links, hold messages until caught up; off: the links are gone,
 * deliver what was held. */
void redis_receive_hold(struct bus_redis *br, int on);
/* The links are up: read the recent streams of the slots with wanted
 * topics, deliver what is new, then what was held. */
void redis_receive_catch_up(struct bus_redis *br);
/* Read one slot's recent stream (its subscriptions just moved), holding
 * messages meanwhile. */
void redis_receive_catch_up_slot(struct bus_redis *br, uint32_t slot);
/* Hold messages for n more reasons / n fewer (delivered once none is left). */
void redis_receive_hold_add(struct bus_redis *br, size_t n);
void redis_receive_hold_done(struct bus_redis *br, size_t n);
void redis_receive_clear(struct bus_redis *br);

/* redis_health.c: the metrics and what /healthz says. */
int redis_health_init(struct bus_redis *br);
/* A node's links came up or went down, or the topology changed. */
void redis_health_update(struct bus_redis *br);
void redis_health_count(struct bus_redis *br, const char *metric, const char *labels);

/* redis_rooms.c: the room log for connection state recovery (the
 * provider's room_publish, room_replay and room_flush).  Without a URL it
 * is the embedded in-process one.  With Redis, one script sequences, logs
 * and publishes each room event; every worker, this one included, gets it
 * back on its subscriber link and hands it to the core in offset order.
 * Commands wait until the subscriptions asked before them are in force, so
 * this worker never publishes to a room before hearing it.  While Redis is
 * away room_publish refuses (the core delivers without offsets), and the
 * floor is raised once what was published meanwhile went out. */
int redis_rooms_init(struct bus_redis *br);
void redis_rooms_clear(struct bus_redis *br);
/* The provider's room_log_on: on a cluster, room topics go to classic
 * SUBSCRIBE from now on (redis_pubsub.c). */
void redis_rooms_log_on(void *ctx);
/* The slot of the room log's keys (0 but on a cluster). */
uint32_t redis_rooms_slot(const struct bus_redis *br);
/* 1 if topic is this worker's flush markers' (redis_receive.c hands their
 * messages to redis_rooms_marker, in order with the others, held or not). */
int redis_rooms_is_anchor(const struct bus_redis *br, const char *topic);
int redis_rooms_publish(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                        unsigned flags, uint64_t max_events, uint64_t keep_ms);
int redis_rooms_replay(void *ctx, const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata);
int redis_rooms_flush(void *ctx, sbr_state_done_fn done, void *userdata);
/* The links are up: after a change of master (a failover), raise the floor
 * before anything else; then send what was in flight when they were lost. */
void redis_rooms_resend(struct bus_redis *br);
/* The links are up and the outage buffer sent: raise the floor if needed. */
void redis_rooms_connected(struct bus_redis *br);
/* The links are gone. */
void redis_rooms_lost(struct bus_redis *br);
/* A SUBSCRIBE was answered: what waited for it may go. */
void redis_rooms_subscribed(struct bus_redis *br);
/* A sequenced message ('#' after the envelope head) from the subscriber
 * link: 1 when it was one (delivered or dropped), 0 when it is not. */
int redis_rooms_receive(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope, uint64_t seq,
                        const char *payload, size_t len);
/* A message on this worker's flush channel (redis_rooms_anchor). */
void redis_rooms_marker(struct bus_redis *br, const char *data, size_t len);
/* The channel of this worker's flush markers (malloc'd). */
char *redis_rooms_anchor(const struct bus_redis *br, size_t *len);
const char *redis_rooms_script_source(enum redis_script script);

#endif
