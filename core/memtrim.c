/* Heap trimming once a burst is over: see memtrim.h. */
#include <stdint.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "memtrim.h"
#include "log.h"
#include "metrics.h"

#define MEMTRIM_TICK_MS 500
/* Work units per tick under which the worker counts as quiet. */
#define MEMTRIM_QUIET 500
/* Work units since the last trim that make the next quiet tick trim. */
#define MEMTRIM_AFTER 50000

static struct event *memtrim_timer;
static uint64_t memtrim_last, memtrim_since;

/* What allocates and frees: events queued to sockets, and sessions opened
 * (a handshake's request, session and buffers), counted heavier. */
static uint64_t memtrim_work(void)
{
    return core_metrics.events_out + 16 * core_metrics.connections_opened;
}

static void memtrim_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t now = memtrim_work();
    uint64_t delta = now - memtrim_last;
    memtrim_last = now;
    memtrim_since += delta;
    if (delta >= MEMTRIM_QUIET || memtrim_since < MEMTRIM_AFTER)
        return;
    memtrim_since = 0;
#ifdef __GLIBC__
    malloc_trim(0);
    core_metrics.memory_trims++;
    log_debug("core", "quiet after a burst: free heap memory returned to the system");
#endif
}

int memtrim_start(struct event_base *base)
{
    memtrim_last = memtrim_work();
    memtrim_since = 0;
    struct timeval tv = {0, MEMTRIM_TICK_MS * 1000};
    memtrim_timer = event_new(base, -1, EV_PERSIST, memtrim_tick, NULL);
    return memtrim_timer && event_add(memtrim_timer, &tv) == 0 ? 0 : -1;
}

void memtrim_stop(void)
{
    if (memtrim_timer)
        event_free(memtrim_timer);
    memtrim_timer = NULL;
}
