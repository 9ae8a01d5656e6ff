/* Latency histogram in microseconds: exact below 4096 us, then 256 buckets
 * per power of two (under 0.4 % error), so millions of samples cost a fixed
 * few hundred kilobytes and no sorting. */
#ifndef LOADGEN_HISTOGRAM_H
#define LOADGEN_HISTOGRAM_H

#include <stdint.h>

struct histogram;

struct histogram *histogram_new(void);
void histogram_free(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t value_us);
/* The value at quantile q (0..1), 0 when empty. */
uint64_t histogram_quantile(const struct histogram *h, double q);
uint64_t histogram_max(const struct histogram *h);

#endif
