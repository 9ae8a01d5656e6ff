/* The one clock.  Tests shift it with clock_set_offset_ms (the daemon reads
 * SBR_CLOCK_OFFSET_MS at start, for tests only) to reach expiries without
 * waiting. */
#include "clock.h"

#include <time.h>

static int64_t clock_offset_ms;

static uint64_t clock_read(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms;
    return ms < 0 ? 0 : (uint64_t)ms;
}

uint64_t clock_now_ms(void)
{
    return clock_read(CLOCK_REALTIME);
}

uint64_t clock_monotonic_ms(void)
{
    return clock_read(CLOCK_MONOTONIC);
}

void clock_set_offset_ms(int64_t offset_ms)
{
    clock_offset_ms = offset_ms;
}
