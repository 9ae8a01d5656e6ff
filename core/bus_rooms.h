/* The room log (layer 3, private): the core's side of the provider ops
 * for connection state recovery (room_publish, room_replay, room_flush)
 * and the sequenced room events the provider hands back.
 *
 * Offers: whether the provider has a room log; routing the three ops;
 * api->bus_deliver_room, handed to the one handler registered (Socket.IO's
 * rooms) for the topics this worker subscribed to.
 * Calls: bus.c (the provider, topic interest) and the base layer. */
#ifndef SBR_CORE_BUS_ROOMS_H
#define SBR_CORE_BUS_ROOMS_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

/* A sequenced room event for a subscribed topic; except is "" for none. */
typedef void (*bus_room_handler)(const char *topic, uint64_t offset, const char *except, unsigned flags,
                                 const char *data, size_t len);

/* Who receives sequenced room events (NULL: nobody). */
void bus_rooms_set_handler(bus_room_handler fn);
/* 1 if the provider implements room_publish, room_replay and room_flush. */
int bus_rooms_available(void);
/* See sbr_bus_provider; SBR_ERR_UNAVAILABLE without a room log, or when
 * the provider cannot sequence now. */
int bus_room_publish(const char *topic, const char *data, size_t len, const char *except, unsigned flags,
                     uint64_t max_events, uint64_t keep_ms);
int bus_room_replay(const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata);
int bus_room_flush(sbr_state_done_fn done, void *userdata);

/* The host table's bus_deliver_room. */
void bus_api_deliver_room(const char *topic, uint64_t offset, const char *except, unsigned flags, const char *data,
                          size_t len);

#endif
