/* bus-redis internals shared by its files: the plugin state, the Redis
 * links (redis_link.c), the state operations (redis_state.c), what was
 * answered in-process written back (redis_writeback.c), the fan-out:
 * subscriptions (redis_pubsub.c), publishing through the outage buffer
 * (redis_publish.c, redis_outbox.c) and receiving (redis_receive.c,
 * redis_dedup.c).  While Redis is not usable every state call is answered
 * by the embedded in-process store (local_bus), and every publish waits in
 * the outage buffer. */
#ifndef SBR_BUS_REDIS_H
#define SBR_BUS_REDIS_H

#include "local_bus.h"
#include "redis_dedup.h"
#include "redis_envelope.h"
#include "redis_outbox.h"
#include "redis_url.h"
#include "strtab.h"

#include <event2/dns.h>
#include <hiredis/async.h>
#include <superbot-realtime/plugin.h>

/* The worker id heading each published message (redis_envelope.h): the
 * core's identity (api->worker_id), padded with '.' to the envelope's
 * width. */
#define BUS_REDIS_WORKER_ID_LEN REDIS_ENVELOPE_ID_LEN

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
    size_t envelope_len;
    char *topic;    /* points into data */
    char *envelope; /* points into data */
    char data[];
};

struct bus_redis {
    sbr_plugin *self;
    const sbr_api *api;
    local_bus *local;

    struct redis_url url;
    char url_text[300];           /* for logs, without credentials */
    char *prefix;                 /* key_prefix */
    uint64_t connect_timeout_ms;  /* also the longest wait for an answer */
    uint64_t reconnect_max_ms;
    char worker_id[BUS_REDIS_WORKER_ID_LEN + 1];

    struct evdns_base *dns;       /* resolves a host name without blocking */
    struct evdns_getaddrinfo_request *resolving;
    char address[64];             /* the host's address for this attempt */

    redisAsyncContext *cmd;       /* commands and publishes */
    redisAsyncContext *sub;       /* subscriptions */
    int cmd_handshake;            /* handshake replies still awaited */
    int sub_handshake;
    int usable;                   /* both links up: answer from Redis */
    int state;                    /* last enum sbr_bus_state reported */
    int unloading;

    sbr_timer_id connect_timer;
    sbr_timer_id retry_timer;
    sbr_timer_id watchdog_timer;
    uint64_t backoff_ms;
    uint64_t jitter;              /* random state for the backoff's jitter */
    unsigned attempts;            /* failed attempts since the last success */
    int ever_connected;

    uint64_t errors_unlogged;     /* error answers since the last log line */
    uint64_t error_logged_ms;

    uint64_t inflight;            /* commands sent, not yet answered */
    uint64_t last_progress_ms;    /* monotonic: last answer, or first send */

    strtab *topics;               /* topic -> struct redis_topic (redis_pubsub.c) */
    char script_sha[REDIS_SCRIPT_COUNT_][41];

    /* Publishing (redis_publish.c). */
    struct redis_outbox outbox;
    uint64_t recent_window_ms;    /* how long after connecting publishes also go to the recent stream */
    uint64_t recent_until_ms;     /* monotonic end of the current window */
    uint64_t drops_unlogged;      /* dropped since the last log line */
    uint64_t drops_logged_ms;
    uint64_t down_since_ms;       /* monotonic: when Redis was lost (0: not lost) */

    /* Receiving (redis_receive.c). */
    redis_dedup *dedup;
    int catching_up;              /* messages are held until the recent stream is read */
    struct redis_held *held_head, **held_tail;
    size_t held_count;

    /* State answered in-process while Redis was away (redis_writeback.c). */
    strtab *dirty;                /* key -> struct redis_dirty */
    uint64_t dirty_dropped;       /* not recorded for want of room since the last report */
};

/* redis_link.c: resolve, connect, handshake, watchdog, backoff, state reports. */
void redis_link_init(struct bus_redis *br);
void redis_link_start(struct bus_redis *br);
void redis_link_stop(struct bus_redis *br);
/* Give up the links (reason for the log) and retry after a backoff. */
void redis_link_fail(struct bus_redis *br, const char *reason);
/* Count a command sent on the command link (for the watchdog), and its answer. */
void redis_link_sent(struct bus_redis *br);
void redis_link_answered(struct bus_redis *br);
/* One handshake answer arrived on the link ac. */
void redis_link_handshake_step(struct bus_redis *br, redisAsyncContext *ac);

/* key_prefix + space + name (malloc'd), its length in *len (may be NULL). */
char *redis_name(const struct bus_redis *br, const char *space, const char *name, size_t *len);
uint64_t redis_link_monotonic_ms(void);

/* redis_state.c */
const char *redis_script_source(enum redis_script script);
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

/* redis_writeback.c: a state change answered in-process while Redis was
 * away is recorded (the last one per key or field), and written to Redis
 * when it is back: what is still live with its time left, what was
 * deleted deleted, reservations only ever lengthened. */
int redis_writeback_init(struct bus_redis *br);
void redis_writeback_note(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field);
/* Send every recorded change on the command link (just connected). */
void redis_writeback_flush(struct bus_redis *br);
void redis_writeback_clear(struct bus_redis *br);

/* redis_pubsub.c */
int redis_pubsub_init(struct bus_redis *br);
/* Queue the subscriber link's handshake: every topic held, then its own
 * channel, whose answer ends the handshake; -1 on failure. */
int redis_pubsub_open(struct bus_redis *br, redisAsyncContext *ac);
int redis_pubsub_subscribe(void *ctx, const char *topic);
int redis_pubsub_unsubscribe(void *ctx, const char *topic);
/* The topic of a Redis channel of ours (NUL-terminated in it), or NULL. */
const char *redis_pubsub_topic(const struct bus_redis *br, const char *channel, size_t len);
/* 1 if the core wants the topic's messages. */
int redis_pubsub_wanted(const struct bus_redis *br, const char *topic);
void redis_pubsub_clear(struct bus_redis *br);

/* redis_publish.c: every publish goes through the outage buffer; sent at
 * once while Redis is usable, kept while it is not, and sent first, in
 * order, once it is back.  For recent_window_ms after (re)connecting, a
 * publish is also appended to the recent stream, where workers that come
 * back later read what they missed (redis_receive.c). */
void redis_publish_init(struct bus_redis *br, size_t max_events, size_t max_bytes, uint64_t max_age_ms);
int redis_publish(void *ctx, const char *topic, const char *data, size_t len);
/* The links are up: open the recent window and send what waits. */
void redis_publish_flush(struct bus_redis *br);
/* The links are gone: what was in flight waits again. */
void redis_publish_lost(struct bus_redis *br);
/* Log (once) what the bounds dropped since the last report. */
void redis_publish_report(struct bus_redis *br, const char *when);
void redis_publish_clear(struct bus_redis *br);
/* key_prefix + "bus:recent": the recent stream. */
#define REDIS_RECENT_SPACE "bus:recent"

/* redis_receive.c: a message from the subscriber link goes to the core
 * unless it is our own echo or a duplicate; while catching up (from the
 * opening of the links until the recent stream is read) it is held. */
int redis_receive_init(struct bus_redis *br);
void redis_receive_message(struct bus_redis *br, const char *topic, const char *envelope, size_t len);
/* on: new links, hold messages until redis_receive_catch_up is done;
 * off: the links are gone, deliver what was held. */
void redis_receive_hold(struct bus_redis *br, int on);
/* The links are up: read the recent stream, deliver what is new, then what was held. */
void redis_receive_catch_up(struct bus_redis *br);
void redis_receive_clear(struct bus_redis *br);

#endif
