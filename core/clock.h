/* The one clock every TTL, heartbeat and token check reads (private). */
#ifndef SBR_CORE_CLOCK_H
#define SBR_CORE_CLOCK_H

#include <stdint.h>

/* Wall-clock milliseconds since the epoch (plus the test offset). */
uint64_t clock_now_ms(void);
/* Monotonic milliseconds, for intervals (plus the test offset). */
uint64_t clock_monotonic_ms(void);
/* Tests: shift both clocks forward by offset_ms. */
void clock_set_offset_ms(int64_t offset_ms);

#endif
