/* Per-origin duplicate filter (see redis_dedup.h). */
#include "redis_dedup.h"

#include "redis_envelope.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

/* The marks of lanes other than 0: open addressing, keyed by lane + 1. */
struct redis_lane_marks {
    size_t cap; /* a power of two, or 0 */
    size_t used;
    uint32_t *keys;
    uint64_t *marks;
};

struct redis_origin {
    char id[REDIS_ENVELOPE_ID_LEN + 1]; /* also the strtab key */
    uint64_t last_seq;                  /* lane 0 */
    uint64_t seen_ms;
    struct redis_lane_marks lanes;
};

struct redis_dedup {
    strtab *origins;
    struct redis_origin **stale; /* scratch for the sweep */
    size_t n_stale;
    uint64_t cutoff;
};

redis_dedup *redis_dedup_new(void)
{
    redis_dedup *d = calloc(1, sizeof(*d));
    if (d && !(d->origins = strtab_new())) {
        free(d);
        d = NULL;
    }
    return d;
}

static void redis_origin_free(void *p)
{
    struct redis_origin *o = p;
    free(o->lanes.keys);
    free(o->lanes.marks);
    free(o);
}

void redis_dedup_free(redis_dedup *d)
{
    if (!d)
        return;
    strtab_free(d->origins, redis_origin_free);
    free(d);
}

/* The slot of lane in m (its key there, or 0 where it would go). */
static size_t redis_lane_find(const struct redis_lane_marks *m, uint32_t lane)
{
    size_t i = (lane * 2654435761u) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != lane + 1)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int redis_lane_grow(struct redis_lane_marks *m)
{
    struct redis_lane_marks bigger = {.cap = m->cap ? m->cap * 2 : 16};
    bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
    bigger.marks = calloc(bigger.cap, sizeof(*bigger.marks));
    if (!bigger.keys || !bigger.marks) {
        free(bigger.keys);
        free(bigger.marks);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t at = redis_lane_find(&bigger, m->keys[i] - 1);
        bigger.keys[at] = m->keys[i];
        bigger.marks[at] = m->marks[i];
    }
    bigger.used = m->used;
    free(m->keys);
    free(m->marks);
    *m = bigger;
    return 0;
}

/* The mark of lane (0 when new, and remembered from now on if possible). */
static uint64_t *redis_lane_mark(struct redis_origin *o, uint32_t lane)
{
    static uint64_t scratch;
    if (lane == 0)
        return &o->last_seq;
    struct redis_lane_marks *m = &o->lanes;
    if (m->cap) {
        size_t i = redis_lane_find(m, lane);
        if (m->keys[i])
            return &m->marks[i];
    }
    if ((m->used + 1) * 2 > m->cap && redis_lane_grow(m) != 0) {
        scratch = 0;
        return &scratch;
    }
    size_t i = redis_lane_find(m, lane);
    m->keys[i] = lane + 1;
    m->marks[i] = 0;
    m->used++;
    return &m->marks[i];
}

size_t redis_dedup_count(const redis_dedup *d)
{
    return strtab_count(d->origins);
}

static void redis_dedup_collect(void *value, void *userdata)
{
    redis_dedup *d = userdata;
    struct redis_origin *o = value;
    if (o->seen_ms < d->cutoff)
        d->stale[d->n_stale++] = o;
}

/* Forget the workers silent for long (restarted ones never come back). */
static void redis_dedup_sweep(redis_dedup *d, uint64_t now)
{
    d->stale = malloc(strtab_count(d->origins) * sizeof(*d->stale));
    if (!d->stale)
        return;
    d->n_stale = 0;
    d->cutoff = now > REDIS_DEDUP_FORGET_MS ? now - REDIS_DEDUP_FORGET_MS : 0;
    strtab_foreach(d->origins, redis_dedup_collect, d);
    for (size_t i = 0; i < d->n_stale; i++) {
        strtab_remove(d->origins, d->stale[i]->id);
        redis_origin_free(d->stale[i]);
    }
    free(d->stale);
    d->stale = NULL;
}

int redis_dedup_accept(redis_dedup *d, const char *origin, uint32_t lane, uint64_t seq, uint64_t now)
{
    char id[REDIS_ENVELOPE_ID_LEN + 1];
    memcpy(id, origin, REDIS_ENVELOPE_ID_LEN);
    id[REDIS_ENVELOPE_ID_LEN] = '\0';
    struct redis_origin *o = strtab_get(d->origins, id);
    if (!o) {
        if (strtab_count(d->origins) >= REDIS_DEDUP_KEEP)
            redis_dedup_sweep(d, now);
        o = calloc(1, sizeof(*o));
        if (!o)
            return 1;
        memcpy(o->id, id, sizeof(id));
        if (strtab_insert(d->origins, o->id, o) != 0) {
            free(o);
            return 1;
        }
    }
    o->seen_ms = now;
    uint64_t *mark = redis_lane_mark(o, lane);
    if (seq <= *mark)
        return 0;
    *mark = seq;
    return 1;
}
