/* bus-redis internals shared by its files: the plugin state, the Redis
 * links (redis_link.c), the state operations (redis_state.c) and the
 * fan-out (redis_pubsub.c).  While Redis is not usable every call is
 * answered by the embedded in-process store (local_bus). */
#ifndef SBR_BUS_REDIS_H
#define SBR_BUS_REDIS_H

#include "local_bus.h"
#include "redis_url.h"
#include "strtab.h"

#include <event2/dns.h>
#include <hiredis/async.h>
#include <superbot-realtime/plugin.h>

/* Envelope of a published message: this many bytes of worker id, then the
 * payload, so a worker can drop the echo of its own messages. */
#define BUS_REDIS_WORKER_ID_LEN 16

enum redis_script {
    REDIS_SCRIPT_KV_GET,
    REDIS_SCRIPT_RESERVE,
    REDIS_SCRIPT_MAP_SET,
    REDIS_SCRIPT_MAP_DEL,
    REDIS_SCRIPT_MAP_GET_ALL,
    REDIS_SCRIPT_MAP_COUNT,
    REDIS_SCRIPT_INCR,
    REDIS_SCRIPT_COUNT_
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

/* redis_pubsub.c */
int redis_pubsub_init(struct bus_redis *br);
/* Queue the subscriber link's handshake (its own channel); -1 on failure. */
int redis_pubsub_open(struct bus_redis *br, redisAsyncContext *ac);
int redis_pubsub_publish(void *ctx, const char *topic, const char *data, size_t len);
int redis_pubsub_subscribe(void *ctx, const char *topic);
int redis_pubsub_unsubscribe(void *ctx, const char *topic);
/* Subscribe the new subscriber link to every topic held. */
void redis_pubsub_resubscribe(struct bus_redis *br);
void redis_pubsub_clear(struct bus_redis *br);

#endif
