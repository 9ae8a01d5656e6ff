/* State changed in-process while Redis was away, written back when it
 * returns, so that every worker reads the same state again.
 *
 * While Redis is not usable, each change (a key set or deleted, a slot
 * reserved, a map field set or deleted) is recorded by key (and field),
 * the last one winning.  When the links are up again, before anything else
 * this worker sends, each record is replayed from what the in-process store
 * holds at that moment:
 *   - set: the value with the time it has left; nothing if it expired since
 *     (Redis may hold a newer value of another worker: never deleted for that);
 *   - deleted: deleted in Redis too;
 *   - reserved: held in Redis for at least the time left here, never
 *     shortened (so slow mode spans the outage across workers).
 * Last writer wins between workers.  A record whose answer is lost with the
 * link is kept for the next time.  At most outage_buffer_max records. */
#include "bus_redis.h"

#include "local_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum redis_dirty_kind { REDIS_DIRTY_SET, REDIS_DIRTY_DEL, REDIS_DIRTY_RESERVE };

struct redis_dirty {
    struct bus_redis *br;
    char *id;        /* strtab key: "k" key, or "m" key "\x1f" field */
    int map;         /* a map field, not a key */
    enum redis_dirty_kind kind;
    char *key;
    char *field;     /* maps only */
};

static void redis_dirty_free(void *p)
{
    struct redis_dirty *d = p;
    free(d->id);
    free(d->key);
    free(d->field);
    free(d);
}

int redis_writeback_init(struct bus_redis *br)
{
    br->dirty = strtab_new();
    return br->dirty ? 0 : -1;
}

void redis_writeback_clear(struct bus_redis *br)
{
    if (br->dirty)
        strtab_free(br->dirty, redis_dirty_free);
    br->dirty = NULL;
}

static char *redis_dirty_id(int map, const char *key, const char *field)
{
    size_t lk = strlen(key), lf = map ? strlen(field) : 0;
    char *id = malloc(1 + lk + 1 + lf + 1);
    if (!id)
        return NULL;
    id[0] = map ? 'm' : 'k';
    memcpy(id + 1, key, lk);
    id[1 + lk] = '\x1f';
    memcpy(id + 2 + lk, map ? field : "", lf + 1);
    return id;
}

/* Record d (owned), replacing an older record of the same key or field. */
static void redis_dirty_put(struct bus_redis *br, struct redis_dirty *d)
{
    struct redis_dirty *old = strtab_remove(br->dirty, d->id);
    if (old)
        redis_dirty_free(old);
    else if (strtab_count(br->dirty) >= br->outbox.max_events) {
        br->dirty_dropped++;
        redis_dirty_free(d);
        return;
    }
    if (strtab_insert(br->dirty, d->id, d) != 0) {
        br->dirty_dropped++;
        redis_dirty_free(d);
    }
}

void redis_writeback_note(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field)
{
    enum redis_dirty_kind what;
    switch (kind) {
    case REDIS_OP_KV_SET:
    case REDIS_OP_MAP_SET: what = REDIS_DIRTY_SET; break;
    case REDIS_OP_KV_DEL:
    case REDIS_OP_MAP_DEL: what = REDIS_DIRTY_DEL; break;
    case REDIS_OP_RESERVE: what = REDIS_DIRTY_RESERVE; break;
    default: return; /* reads change nothing; counters (incr) count windows too short to carry over */
    }
    int map = kind == REDIS_OP_MAP_SET || kind == REDIS_OP_MAP_DEL;
    struct redis_dirty *d = calloc(1, sizeof(*d));
    if (!d || !(d->id = redis_dirty_id(map, key, field)) || !(d->key = strdup(key)) ||
        (map && !(d->field = strdup(field)))) {
        if (d)
            redis_dirty_free(d);
        br->dirty_dropped++;
        return;
    }
    d->br = br;
    d->map = map;
    d->kind = what;
    redis_dirty_put(br, d);
}

static void redis_writeback_answered(struct redis_node *node, redisReply *r, void *privdata)
{
    struct redis_dirty *d = privdata;
    struct bus_redis *br = d->br;
    if (!r && !br->unloading && br->dirty && !strtab_get(br->dirty, d->id)) {
        redis_dirty_put(br, d); /* the link died first: next time */
        return;
    }
    redis_dirty_free(d);
}

/* The command that writes d back: argv/lens filled, names owned by the
 * caller's buf[]; 0 when there is nothing to write (it expired since). */
struct redis_writeback_cmd {
    const char *argv[8];
    size_t lens[8];
    int argc;
    char *names[2];
    size_t name_len;
    char ttl[24];
};

static void redis_writeback_arg(struct redis_writeback_cmd *c, const char *s, size_t len)
{
    c->argv[c->argc] = s;
    c->lens[c->argc] = len;
    c->argc++;
}

static int redis_writeback_key(struct bus_redis *br, const struct redis_dirty *d, struct redis_writeback_cmd *c,
                               uint64_t now)
{
    size_t len;
    const char *value;
    uint64_t deadline = 0;
    if (d->kind != REDIS_DIRTY_DEL &&
        !local_store_kv_peek(local_bus_store(br->local), d->key, now, &value, &len, &deadline))
        return 0;
    size_t klen;
    if (!(c->names[0] = redis_state_kv_name(br, d->key, &klen)))
        return 0;
    c->name_len = klen;
    snprintf(c->ttl, sizeof(c->ttl), "%" PRIu64, deadline > now ? deadline - now : 0);
    if (d->kind == REDIS_DIRTY_DEL) {
        redis_writeback_arg(c, "DEL", 3);
        redis_writeback_arg(c, c->names[0], klen);
    } else if (d->kind == REDIS_DIRTY_RESERVE) {
        const char *sha = br->script_sha[REDIS_SCRIPT_RESERVE_EXTEND];
        redis_writeback_arg(c, "EVALSHA", 7);
        redis_writeback_arg(c, sha, strlen(sha));
        redis_writeback_arg(c, "1", 1);
        redis_writeback_arg(c, c->names[0], klen);
        redis_writeback_arg(c, c->ttl, strlen(c->ttl));
    } else {
        redis_writeback_arg(c, "SET", 3);
        redis_writeback_arg(c, c->names[0], klen);
        redis_writeback_arg(c, value, len);
        if (deadline) {
            redis_writeback_arg(c, "PX", 2);
            redis_writeback_arg(c, c->ttl, strlen(c->ttl));
        }
    }
    return 1;
}

static int redis_writeback_field(struct bus_redis *br, const struct redis_dirty *d, struct redis_writeback_cmd *c,
                                 uint64_t now)
{
    const char *value = NULL;
    uint64_t deadline = 0;
    if (d->kind == REDIS_DIRTY_SET &&
        !local_store_map_peek(local_bus_store(br->local), d->key, d->field, now, &value, &deadline))
        return 0;
    size_t klen, xlen;
    if (!(c->names[0] = redis_state_map_name(br, d->key, 0, &klen)) ||
        !(c->names[1] = redis_state_map_name(br, d->key, 1, &xlen)))
        return 0;
    c->name_len = klen;
    const char *sha = br->script_sha[d->kind == REDIS_DIRTY_SET ? REDIS_SCRIPT_MAP_SET : REDIS_SCRIPT_MAP_DEL];
    redis_writeback_arg(c, "EVALSHA", 7);
    redis_writeback_arg(c, sha, strlen(sha));
    redis_writeback_arg(c, "2", 1);
    redis_writeback_arg(c, c->names[0], klen);
    redis_writeback_arg(c, c->names[1], xlen);
    redis_writeback_arg(c, d->field, strlen(d->field));
    if (d->kind == REDIS_DIRTY_SET) {
        snprintf(c->ttl, sizeof(c->ttl), "%" PRIu64, deadline > now ? deadline - now : 0);
        redis_writeback_arg(c, value, strlen(value));
        redis_writeback_arg(c, c->ttl, strlen(c->ttl));
    }
    return 1;
}

/* Send d's write-back (d then belongs to the answer), or free it. */
static void redis_writeback_send(struct bus_redis *br, struct redis_dirty *d, uint64_t now)
{
    struct redis_writeback_cmd c = {.argc = 0};
    int some = d->map ? redis_writeback_field(br, d, &c, now) : redis_writeback_key(br, d, &c, now);
    if (some && redis_route_command(br, redis_route_slot(br, c.names[0], c.name_len), c.argc, c.argv, c.lens,
                                    redis_writeback_answered, d) == 0)
        d = NULL;
    free(c.names[0]);
    free(c.names[1]);
    if (d)
        redis_dirty_free(d);
}

struct redis_writeback_list {
    struct redis_dirty **items;
    size_t n;
};

static void redis_writeback_collect(void *value, void *userdata)
{
    struct redis_writeback_list *list = userdata;
    list->items[list->n++] = value;
}

void redis_writeback_flush(struct bus_redis *br)
{
    size_t count = strtab_count(br->dirty);
    if (br->dirty_dropped)
        br->api->log(br->self, SBR_LOG_WARN,
                     "%" PRIu64 " state change(s) made while Redis was away are not written back "
                     "(past outage_buffer_max or out of memory): they end with their TTL",
                     br->dirty_dropped);
    br->dirty_dropped = 0;
    if (!count)
        return;
    struct redis_writeback_list list = {malloc(count * sizeof(*list.items)), 0};
    if (!list.items)
        return; /* kept for the next time */
    strtab_foreach(br->dirty, redis_writeback_collect, &list);
    for (size_t i = 0; i < list.n; i++)
        strtab_remove(br->dirty, list.items[i]->id);
    uint64_t now = br->api->now_ms();
    for (size_t i = 0; i < list.n; i++)
        redis_writeback_send(br, list.items[i], now);
    free(list.items);
    br->api->log(br->self, SBR_LOG_INFO, "wrote back %zu state change(s) made while Redis was away", count);
}
