/* The in-process state-and-bus provider: local_store driven by the core's
 * clock and loop.  bus-local exposes it as is; bus-redis embeds it and
 * answers from it while Redis is not usable.  The functions have the
 * signatures of struct sbr_bus_provider, with a local_bus as ctx. */
#ifndef SBR_BUS_LOCAL_BUS_H
#define SBR_BUS_LOCAL_BUS_H

#include <superbot-realtime/plugin.h>

typedef struct local_bus local_bus;

local_bus *local_bus_new(sbr_plugin *self, const sbr_api *api);
void local_bus_free(local_bus *lb);
/* The store behind it, for a provider that reads it directly (bus-redis
 * writing back what it answered while Redis was away). */
struct local_store *local_bus_store(local_bus *lb);

int local_bus_kv_set(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                     sbr_state_done_fn done, void *userdata);
int local_bus_kv_get(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int local_bus_kv_del(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int local_bus_reserve(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
int local_bus_incr(void *ctx, const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
int local_bus_map_set(void *ctx, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                      sbr_state_done_fn done, void *userdata);
int local_bus_map_del(void *ctx, const char *key, const char *field, sbr_state_done_fn done, void *userdata);
int local_bus_map_get_all(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
int local_bus_map_count(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
/* The room log (local_roomlog.h), for connection state recovery. */
int local_bus_room_publish(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                           unsigned flags, uint64_t max_events, uint64_t keep_ms);
int local_bus_room_replay(void *ctx, const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata);
int local_bus_room_flush(void *ctx, sbr_state_done_fn done, void *userdata);

#endif
