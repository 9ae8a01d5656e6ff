#include "histogram.h"

#include <stdlib.h>

#define LINEAR_LIMIT 4096u     /* 2^12: exact buckets below */
#define LINEAR_BITS 12
#define SUB_BITS 8             /* 256 buckets per power of two above */
#define TOP_BITS 40            /* ~12 days in microseconds: nothing is slower */
#define BUCKETS (LINEAR_LIMIT + (TOP_BITS - LINEAR_BITS) * (1u << SUB_BITS))

struct histogram {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[BUCKETS];
};

struct histogram *histogram_new(void)
{
    return calloc(1, sizeof(struct histogram));
}

void histogram_free(struct histogram *h)
{
    free(h);
}

static unsigned bucket_of(uint64_t v)
{
    if (v < LINEAR_LIMIT)
        return (unsigned)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v);
    if (top >= TOP_BITS)
        return BUCKETS - 1;
    unsigned sub = (unsigned)(v >> (top - SUB_BITS)) & ((1u << SUB_BITS) - 1);
    return LINEAR_LIMIT + (top - LINEAR_BITS) * (1u << SUB_BITS) + sub;
}

/* The lowest value of a bucket. */
static uint64_t value_of(unsigned b)
{
    if (b < LINEAR_LIMIT)
        return b;
    unsigned top = LINEAR_BITS + (b - LINEAR_LIMIT) / (1u << SUB_BITS);
    uint64_t sub = (b - LINEAR_LIMIT) % (1u << SUB_BITS);
    return ((1ull << SUB_BITS) | sub) << (top - SUB_BITS);
}

void histogram_record(struct histogram *h, uint64_t value_us)
{
    h->buckets[bucket_of(value_us)]++;
    h->count++;
    if (value_us > h->max)
        h->max = value_us;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen > rank)
            return value_of(b) < h->max ? value_of(b) : h->max;
    }
    return h->max;
}

uint64_t histogram_max(const struct histogram *h)
{
    return h->max;
}
