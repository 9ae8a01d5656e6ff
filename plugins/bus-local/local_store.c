#include "local_store.h"

#include "deadline_heap.h"
#include "strtab.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <superbot-realtime/plugin.h>

/* What a heap item belongs to, so the purge knows how to drop it. */
enum store_kind { STORE_KV, STORE_FIELD };

struct store_entry {
    struct deadline_item expiry; /* first: the heap hands back this pointer */
    enum store_kind kind;
    char *key;                   /* the key, or the field name */
    char *value;                 /* NUL-terminated copy */
    size_t len;
    struct store_map *map;       /* STORE_FIELD: the map holding it */
};

struct store_map {
    char *key;
    strtab *fields; /* field name -> struct store_entry */
};

struct local_store {
    strtab *kv;   /* key -> struct store_entry */
    strtab *maps; /* key -> struct store_map */
    struct deadline_heap heap;
    size_t fields; /* live map fields in every map */
};

static void store_entry_free(void *p)
{
    struct store_entry *e = p;
    free(e->key);
    free(e->value);
    free(e);
}

static void store_map_free(void *p)
{
    struct store_map *m = p;
    strtab_free(m->fields, store_entry_free);
    free(m->key);
    free(m);
}

local_store *local_store_new(void)
{
    local_store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->kv = strtab_new();
    st->maps = strtab_new();
    if (!st->kv || !st->maps) {
        local_store_free(st);
        return NULL;
    }
    deadline_heap_init(&st->heap);
    return st;
}

void local_store_free(local_store *st)
{
    if (!st)
        return;
    if (st->kv)
        strtab_free(st->kv, store_entry_free);
    if (st->maps)
        strtab_free(st->maps, store_map_free);
    deadline_heap_free(&st->heap);
    free(st);
}

static char *store_copy(const char *s, size_t len)
{
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

static struct store_entry *store_entry_new(enum store_kind kind, const char *key, const char *value, size_t len)
{
    struct store_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->kind = kind;
    e->expiry.index = DEADLINE_NONE;
    e->key = strdup(key);
    e->value = store_copy(value, len);
    e->len = len;
    if (!e->key || !e->value) {
        store_entry_free(e);
        return NULL;
    }
    return e;
}

/* Give an entry its deadline (0: none), in or out of the heap. */
static int store_entry_expire_at(local_store *st, struct store_entry *e, uint64_t deadline)
{
    if (deadline == 0) {
        deadline_heap_remove(&st->heap, &e->expiry);
        e->expiry.deadline = 0;
        return 0;
    }
    e->expiry.deadline = deadline;
    if (e->expiry.index != DEADLINE_NONE) {
        deadline_heap_update(&st->heap, &e->expiry);
        return 0;
    }
    return deadline_heap_push(&st->heap, &e->expiry);
}

static uint64_t store_deadline(uint64_t now, uint64_t ttl_ms)
{
    if (ttl_ms == 0)
        return 0;
    return ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + ttl_ms;
}

/* Remove an entry wherever it lives; a map left empty goes too. */
static void store_entry_drop(local_store *st, struct store_entry *e)
{
    deadline_heap_remove(&st->heap, &e->expiry);
    if (e->kind == STORE_KV) {
        strtab_remove(st->kv, e->key);
    } else {
        struct store_map *m = e->map;
        strtab_remove(m->fields, e->key);
        st->fields--;
        if (strtab_count(m->fields) == 0) {
            strtab_remove(st->maps, m->key);
            store_map_free(m);
        }
    }
    store_entry_free(e);
}

void local_store_purge(local_store *st, uint64_t now)
{
    struct deadline_item *top;
    while ((top = deadline_heap_top(&st->heap)) && top->deadline <= now)
        store_entry_drop(st, (struct store_entry *)top);
}

uint64_t local_store_next_deadline(const local_store *st)
{
    struct deadline_item *top = deadline_heap_top(&st->heap);
    return top ? top->deadline : 0;
}

size_t local_store_size(const local_store *st)
{
    return strtab_count(st->kv) + st->fields;
}

int local_store_kv_set(local_store *st, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                       uint64_t now)
{
    local_store_purge(st, now);
    struct store_entry *e = store_entry_new(STORE_KV, key, value, len);
    if (!e)
        return SBR_ERR_NOMEM;
    if (store_entry_expire_at(st, e, store_deadline(now, ttl_ms)) != 0) {
        store_entry_free(e);
        return SBR_ERR_NOMEM;
    }
    struct store_entry *old = strtab_get(st->kv, key);
    if (old)
        store_entry_drop(st, old);
    if (strtab_insert(st->kv, e->key, e) != 0) {
        deadline_heap_remove(&st->heap, &e->expiry);
        store_entry_free(e);
        return SBR_ERR_NOMEM;
    }
    return SBR_OK;
}

int local_store_kv_get(local_store *st, const char *key, uint64_t now, const char **value, size_t *len)
{
    local_store_purge(st, now);
    struct store_entry *e = strtab_get(st->kv, key);
    if (!e)
        return 0;
    *value = e->value;
    *len = e->len;
    return 1;
}

int local_store_kv_peek(local_store *st, const char *key, uint64_t now, const char **value, size_t *len,
                        uint64_t *deadline)
{
    local_store_purge(st, now);
    struct store_entry *e = strtab_get(st->kv, key);
    if (!e)
        return 0;
    *value = e->value;
    *len = e->len;
    *deadline = e->expiry.deadline;
    return 1;
}

int local_store_kv_del(local_store *st, const char *key, uint64_t now)
{
    local_store_purge(st, now);
    struct store_entry *e = strtab_get(st->kv, key);
    if (!e)
        return 0;
    store_entry_drop(st, e);
    return 1;
}

int local_store_reserve(local_store *st, const char *key, uint64_t ttl_ms, uint64_t now, int64_t *remaining_ms)
{
    local_store_purge(st, now);
    struct store_entry *e = strtab_get(st->kv, key);
    if (e) {
        *remaining_ms = e->expiry.deadline ? (int64_t)(e->expiry.deadline - now) : -1;
        return 0;
    }
    *remaining_ms = 0;
    int rc = local_store_kv_set(st, key, "1", 1, ttl_ms, now);
    return rc == SBR_OK ? 1 : rc;
}

/* A key's value as a counter: an optional '-' and digits, in range. */
static int store_parse_counter(const char *text, size_t len, int64_t *out)
{
    if (len == 0 || len > 20)
        return -1;
    char buf[24], *end;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return -1;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int local_store_incr(local_store *st, const char *key, int64_t delta, uint64_t ttl_ms, uint64_t now, int64_t *value)
{
    local_store_purge(st, now);
    struct store_entry *e = strtab_get(st->kv, key);
    int64_t old = 0;
    uint64_t keep_ms = ttl_ms;
    if (e) {
        if (store_parse_counter(e->value, e->len, &old) != 0)
            return SBR_ERR_INVALID;
        /* The first increment set the window; later ones keep its end. */
        if (e->expiry.deadline)
            keep_ms = e->expiry.deadline - now;
    }
    if ((delta > 0 && old > INT64_MAX - delta) || (delta < 0 && old < INT64_MIN - delta))
        return SBR_ERR_INVALID;
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, old + delta);
    int rc = local_store_kv_set(st, key, text, (size_t)n, keep_ms, now);
    if (rc == SBR_OK)
        *value = old + delta;
    return rc;
}

static struct store_map *store_map_get(local_store *st, const char *key, uint64_t now)
{
    local_store_purge(st, now);
    return strtab_get(st->maps, key);
}

int local_store_map_set(local_store *st, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                        uint64_t now, int64_t *count)
{
    struct store_map *m = store_map_get(st, key, now);
    int created_map = 0;
    if (!m) {
        m = calloc(1, sizeof(*m));
        if (!m)
            return SBR_ERR_NOMEM;
        m->key = strdup(key);
        m->fields = strtab_new();
        if (!m->key || !m->fields || strtab_insert(st->maps, m->key, m) != 0) {
            store_map_free(m);
            return SBR_ERR_NOMEM;
        }
        created_map = 1;
    }
    struct store_entry *old = strtab_get(m->fields, field);
    if (old) {
        char *v = store_copy(value, strlen(value));
        if (!v)
            return SBR_ERR_NOMEM;
        free(old->value);
        old->value = v;
        old->len = strlen(v);
        if (store_entry_expire_at(st, old, store_deadline(now, ttl_ms)) != 0)
            return SBR_ERR_NOMEM;
        *count = (int64_t)strtab_count(m->fields);
        return 0;
    }
    struct store_entry *e = store_entry_new(STORE_FIELD, field, value, strlen(value));
    if (e) {
        e->map = m;
        if (store_entry_expire_at(st, e, store_deadline(now, ttl_ms)) != 0 ||
            strtab_insert(m->fields, e->key, e) != 0) {
            deadline_heap_remove(&st->heap, &e->expiry);
            store_entry_free(e);
            e = NULL;
        }
    }
    if (!e) {
        if (created_map) {
            strtab_remove(st->maps, m->key);
            store_map_free(m);
        }
        return SBR_ERR_NOMEM;
    }
    st->fields++;
    *count = (int64_t)strtab_count(m->fields);
    return 1;
}

int local_store_map_del(local_store *st, const char *key, const char *field, uint64_t now, int64_t *count)
{
    struct store_map *m = store_map_get(st, key, now);
    struct store_entry *e = m ? strtab_get(m->fields, field) : NULL;
    if (!e) {
        *count = m ? (int64_t)strtab_count(m->fields) : 0;
        return 0;
    }
    /* Read the count first: dropping the last field frees the map. */
    *count = (int64_t)strtab_count(m->fields) - 1;
    store_entry_drop(st, e);
    return 1;
}

size_t local_store_map_count(local_store *st, const char *key, uint64_t now)
{
    struct store_map *m = store_map_get(st, key, now);
    return m ? strtab_count(m->fields) : 0;
}

int local_store_map_peek(local_store *st, const char *key, const char *field, uint64_t now, const char **value,
                         uint64_t *deadline)
{
    struct store_map *m = store_map_get(st, key, now);
    struct store_entry *e = m ? strtab_get(m->fields, field) : NULL;
    if (!e)
        return 0;
    *value = e->value;
    *deadline = e->expiry.deadline;
    return 1;
}

struct store_foreach_ctx {
    void (*fn)(const char *field, const char *value, void *userdata);
    void *userdata;
};

static void store_foreach_field(void *value, void *userdata)
{
    struct store_entry *e = value;
    struct store_foreach_ctx *c = userdata;
    c->fn(e->key, e->value, c->userdata);
}

size_t local_store_map_foreach(local_store *st, const char *key, uint64_t now,
                               void (*fn)(const char *field, const char *value, void *userdata), void *userdata)
{
    struct store_map *m = store_map_get(st, key, now);
    if (!m)
        return 0;
    struct store_foreach_ctx c = {fn, userdata};
    strtab_foreach(m->fields, store_foreach_field, &c);
    return strtab_count(m->fields);
}
