/* One timer per session (heartbeat, ping timeout, polling close grace)
 * without one libevent event per session (private to core/eio).
 *
 * Sessions arm their timer with few distinct durations (ping interval, ping
 * timeout, drain grace), so each duration keeps a FIFO list: a session armed
 * later with the same duration is due later, and arming or cancelling is
 * O(1).  One libevent timer is armed for the earliest head of all lists.
 * Each session carries two links and its deadline instead of a pointer to a
 * separately allocated struct event. */
#ifndef SBR_EIO_TIMER_H
#define SBR_EIO_TIMER_H

#include <stdint.h>
#include <event2/event.h>

struct eio_session;

int eio_timer_init(struct event_base *base, void (*fire)(struct eio_session *s));
void eio_timer_free(void);
/* (Re)arm s to fire in ms milliseconds, replacing what was armed. */
void eio_timer_arm(struct eio_session *s, uint64_t ms);
void eio_timer_cancel(struct eio_session *s);

#endif
