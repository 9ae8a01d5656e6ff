/* The in-process room log as a provider serves it (room_publish,
 * room_replay, room_flush of struct sbr_bus_provider): local_rooms driven
 * by the core's clock and loop.  Publishing delivers at once, to this
 * worker (the only one); replays and flushes answer from the loop.  bus-local
 * serves it as is; bus-redis serves it without a URL. */
#ifndef SBR_BUS_LOCAL_ROOMLOG_H
#define SBR_BUS_LOCAL_ROOMLOG_H

#include <superbot-realtime/plugin.h>

typedef struct local_roomlog local_roomlog;

local_roomlog *local_roomlog_new(sbr_plugin *self, const sbr_api *api);
/* Free it; replays not answered yet are dropped (the plugin unloads). */
void local_roomlog_free(local_roomlog *rl);

int local_roomlog_publish(local_roomlog *rl, const char *topic, const char *data, size_t len, const char *except,
                          unsigned flags, uint64_t max_events, uint64_t keep_ms);
int local_roomlog_replay(local_roomlog *rl, const sbr_room_replay *request, sbr_room_replay_fn done,
                         void *userdata);
int local_roomlog_flush(local_roomlog *rl, sbr_state_done_fn done, void *userdata);

#endif
