/* The core's side of the state-and-bus interface (private): routes the state
 * services to the provider a bus plugin registered, keeps topic
 * subscriptions, and carries room broadcasts between workers.  With no
 * provider registered the core answers state calls SBR_ERR_UNAVAILABLE and
 * broadcasts stay local. */
#ifndef SBR_CORE_BUS_H
#define SBR_CORE_BUS_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

/* Rooms travel on the topic ROOM_TOPIC_PREFIX + room name. */
#define BUS_ROOM_TOPIC_PREFIX "room:"

/* The room gained its first local member (on = 1) or lost its last (on = 0):
 * subscribe to or drop its topic. */
void bus_room_interest(const char *room, int on);
/* Send an encoded Engine.IO packet for a room to the other workers. */
int bus_room_publish(const char *room, const char *packet, size_t len);

/* enum sbr_bus_state, and the name /healthz shows: "disabled", "connected", "down". */
int bus_state_get(void);
const char *bus_state_name(void);

/* Services for the host table (see struct sbr_api). */
int bus_api_publish(const char *topic, const char *data, size_t len);
int bus_api_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *userdata);
int bus_api_provide(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx);
void bus_api_deliver(const char *topic, const char *data, size_t len);
void bus_api_set_state(enum sbr_bus_state state, const char *detail);
int bus_api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_kv_get(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_kv_del(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_reserve(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_incr(const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_map_set(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_map_del(const char *key, const char *field, sbr_state_done_fn done, void *ud);
int bus_api_map_get_all(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_map_count(const char *key, sbr_state_done_fn done, void *ud);

/* Drop the subscriptions of a plugin being unloaded. */
void bus_unregister_all(sbr_plugin *owner);
/* Free queued messages and topics (at exit). */
void bus_free(void);

#endif
