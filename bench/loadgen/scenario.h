/* The scenarios.  Each runs on the given loop, prints its JSON line and
 * table, and returns the process exit status: 0 clean, 1 when anything failed
 * or was lost, 2 when the setup itself failed. */
#ifndef LOADGEN_SCENARIO_H
#define LOADGEN_SCENARIO_H

struct event_base;
struct options;

int scenario_connect(struct event_base *base, const struct options *o);
/* cross: subscribers spread over every URL, publishers on the first. */
int scenario_fanout(struct event_base *base, const struct options *o, int cross);
/* rooms: connections in channels of a few, each publishing at a low rate,
 * with typing and presence traffic beside the messages. */
int scenario_rooms(struct event_base *base, const struct options *o);
int scenario_token(struct event_base *base, const struct options *o);
/* floor: no server; a bare send() loop in a child process, for reference,
 * or (--shape fanout|rooms) a child relaying with coalesced writes. */
int scenario_floor(struct event_base *base, const struct options *o);
/* The relay shapes of floor (scenario_floor hands them over). */
int scenario_floor_relay(struct event_base *base, const struct options *o);

#endif
