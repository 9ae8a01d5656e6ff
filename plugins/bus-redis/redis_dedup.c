/* Per-origin duplicate filter (see redis_dedup.h). */
#include "redis_dedup.h"

#include "redis_envelope.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

struct redis_origin {
    char id[REDIS_ENVELOPE_ID_LEN + 1]; /* also the strtab key */
    uint64_t last_seq;
    uint64_t seen_ms;
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

void redis_dedup_free(redis_dedup *d)
{
    if (!d)
        return;
    strtab_free(d->origins, free);
    free(d);
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
        free(d->stale[i]);
    }
    free(d->stale);
    d->stale = NULL;
}

int redis_dedup_accept(redis_dedup *d, const char *origin, uint64_t seq, uint64_t now)
{
    char id[REDIS_ENVELOPE_ID_LEN + 1];
    memcpy(id, origin, REDIS_ENVELOPE_ID_LEN);
    id[REDIS_ENVELOPE_ID_LEN] = '\0';
    struct redis_origin *o = strtab_get(d->origins, id);
    if (o) {
        o->seen_ms = now;
        if (seq <= o->last_seq)
            return 0;
        o->last_seq = seq;
        return 1;
    }
    if (strtab_count(d->origins) >= REDIS_DEDUP_KEEP)
        redis_dedup_sweep(d, now);
    o = calloc(1, sizeof(*o));
    if (!o)
        return 1;
    memcpy(o->id, id, sizeof(id));
    o->last_seq = seq;
    o->seen_ms = now;
    if (strtab_insert(d->origins, o->id, o) != 0)
        free(o);
    return 1;
}
