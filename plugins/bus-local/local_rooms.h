/* The room log in process, for connection state recovery: one sequence of
 * offsets, and per room the last events with their offsets, the socket id
 * each skips and their packets.  A room keeps at most max_events events
 * (the oldest dropped past it, remembered as the log's `trimmed` mark) and
 * lives keep_ms after its last event.  Pure bookkeeping: no I/O, no clock
 * (callers pass now), no callbacks; local_roomlog.c drives it. */
#ifndef SBR_BUS_LOCAL_ROOMS_H
#define SBR_BUS_LOCAL_ROOMS_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

typedef struct local_rooms local_rooms;

local_rooms *local_rooms_new(void);
void local_rooms_free(local_rooms *lr);

/* Append an event to topic's log with the next offset, which it returns
 * (0: out of memory, nothing appended; the offset it would have had is
 * then a floor: a replay from below it answers incomplete).  The first
 * offset is now_ms in microseconds, so a restarted process does not go
 * back. */
uint64_t local_rooms_append(local_rooms *lr, const char *topic, const char *data, size_t len, const char *except,
                            uint64_t max_events, uint64_t keep_ms, uint64_t now_ms);

/* A replay's answer; its arrays point into the logs and stay valid until
 * the next append or purge. */
struct local_rooms_answer {
    sbr_room_replay_reply reply;
    uint64_t *offsets;
    size_t *topics;
    const char **excepts;
    const char **packets;
    size_t *lens;
};

/* The events of the topics above `after`, by offset, into out (clear it
 * with local_rooms_answer_clear).  0, or -1 without memory. */
int local_rooms_replay(local_rooms *lr, const sbr_room_replay *request, uint64_t now_ms,
                       struct local_rooms_answer *out);
/* Arrays for n events (none for 0); -1 without memory (clear it then too).
 * Also for a provider that fills them from elsewhere (bus-redis). */
int local_rooms_answer_alloc(struct local_rooms_answer *out, size_t n);
void local_rooms_answer_clear(struct local_rooms_answer *a);

/* Drop the logs that expired; the earliest deadline left (0: none). */
void local_rooms_purge(local_rooms *lr, uint64_t now_ms);
uint64_t local_rooms_next_deadline(const local_rooms *lr);
/* The last offset given (0: none yet). */
uint64_t local_rooms_last(const local_rooms *lr);
/* Logs held, and events in them (tests and metrics). */
size_t local_rooms_count(const local_rooms *lr);
size_t local_rooms_events(const local_rooms *lr);

#endif
