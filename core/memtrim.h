/* Returning the heap's free memory to the system after a burst (private).
 *
 * A burst (a reconnect storm, a presence fan-out to a large server, a flood
 * of messages) allocates and frees many small blocks; malloc keeps what was
 * freed, so the worker's RSS would stay at the burst's peak.  Twice a second
 * the worker looks at how much it did since the last look; when it is quiet
 * again after enough work, malloc_trim(0) hands the free pages back. */
#ifndef SBR_CORE_MEMTRIM_H
#define SBR_CORE_MEMTRIM_H

#include <event2/event.h>

int memtrim_start(struct event_base *base);
void memtrim_stop(void);

#endif
