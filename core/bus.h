/* The bus (layer 3, private): the core's side of the state-and-bus
 * interface.
 *
 * Offers: state calls routed to the provider a bus plugin registered
 * (SBR_ERR_UNAVAILABLE without one); topics with subscriber callbacks, whose
 * interest is counted so that the provider only hears of a topic's first
 * subscriber and its last; publishing to every worker (this one on the next
 * loop turn) or to the other workers only; the backend's state, reported to
 * the one listener given to bus_init.
 * Calls: the base layer only.  It knows nothing of rooms: Socket.IO
 * subscribes to its "room:" topics like any other subscriber. */
#ifndef SBR_CORE_BUS_H
#define SBR_CORE_BUS_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

struct event_base;

/* Topics starting with this are the core's (room fan-out): the services of
 * the host table refuse them to plugins. */
#define BUS_CORE_TOPIC_PREFIX "room:"

/* The backend changed state (enum sbr_bus_state values). */
typedef void (*bus_state_listener)(int state, int previous, const char *detail);

/* Before any other call: the loop local delivery runs on, and who hears of
 * state changes (NULL: nobody).  0, or -1 without memory. */
int bus_init(struct event_base *base, bus_state_listener on_state);

/* enum sbr_bus_state, and its name for /healthz: "disabled", "connected", "down". */
int bus_state_get(void);
const char *bus_state_name(void);

/* Subscribe fn to topic, any topic (owner NULL: the core).  Messages come
 * from other workers at once, and from this one's publishes on the next
 * loop turn.  0 or SBR_ERR_*. */
int bus_subscribe(sbr_plugin *owner, const char *topic, sbr_bus_message_fn fn, void *userdata);
/* Undo one bus_subscribe with the same four values. */
void bus_unsubscribe(sbr_plugin *owner, const char *topic, sbr_bus_message_fn fn, void *userdata);
/* Publish to the other workers only, for a caller that served this one
 * itself.  0 (also with no provider: there are no others), or the
 * provider's error (counted as undelivered). */
int bus_publish_others(const char *topic, const char *data, size_t len);

/* Services of the host table (see struct sbr_api); publish and subscribe
 * refuse BUS_CORE_TOPIC_PREFIX topics. */
int bus_api_publish(const char *topic, const char *data, size_t len);
int bus_api_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *userdata);
int bus_api_provide(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx);
void bus_api_deliver(const char *topic, const char *data, size_t len);
void bus_api_set_state(enum sbr_bus_state state, const char *detail);
/* What the provider (owner) adds to /healthz: the text of a JSON object
 * (checked by the caller), copied; NULL clears it.  SBR_ERR_STATE when
 * owner is not the provider. */
int bus_set_health(sbr_plugin *owner, const char *json_object);
/* The text bus_set_health was given last, or NULL. */
const char *bus_health(void);
int bus_api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_kv_get(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_kv_del(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_reserve(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_incr(const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_map_set(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done, void *ud);
int bus_api_map_del(const char *key, const char *field, sbr_state_done_fn done, void *ud);
int bus_api_map_get_all(const char *key, sbr_state_done_fn done, void *ud);
int bus_api_map_count(const char *key, sbr_state_done_fn done, void *ud);

/* Provider p has op: a provider built before op has a smaller struct, or
 * NULL in op's slot. */
#define BUS_PROVIDER_HAS(p, op) (SBR_EVENT_HAS(p, sbr_bus_provider, op) && (p)->op != NULL)

/* The provider (NULL: none) and its ctx, for bus_rooms.c. */
const sbr_bus_provider *bus_provider_current(void **ctx);
/* Connection state recovery is on (1) or off: a provider with room_log_on
 * hears it when it registers (or now, if it did already). */
void bus_room_log_want(int on);
/* 1 if this worker has a subscriber for topic. */
int bus_topic_subscribed(const char *topic);

/* Drop the subscriptions (and the provider) of a plugin being unloaded. */
void bus_unregister_all(sbr_plugin *owner);
/* Free queued messages and topics (at exit). */
void bus_free(void);

#endif
