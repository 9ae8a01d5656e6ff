/* The state operations over Redis.  Keys live under key_prefix + "kv:",
 * maps under key_prefix + "map:" (a HASH of values) and key_prefix +
 * "mapx:" (a ZSET of field -> deadline in ms); on a cluster a map's name
 * is a hash tag, "map:{name}" and "mapx:{name}", so that its scripts find
 * both keys in one slot (redis_scripts.c).  Each command goes to the node
 * owning its key's slot (redis_route.c).  A command the links cannot
 * carry, or whose link dies before the answer, is answered by the
 * in-process store instead.
 *
 * What this worker writes and the keys it reads are mirrored into the
 * in-process store (with their time left), so when Redis goes away the
 * worker still knows its channels and slow-mode reservations and its own
 * map entries. */
#include "bus_redis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most one log line about refused commands per this many ms. */
#define REDIS_ERROR_LOG_EVERY_MS 10000

/* One operation in flight, with its arguments kept so it can be replayed
 * on the in-process store or re-sent with EVAL. */
struct redis_op {
    struct bus_redis *br;
    enum redis_op_kind kind;
    sbr_state_done_fn done;
    void *userdata;
    char *key;       /* as the caller named it */
    char *redis_key; /* key_prefix + "kv:" or "map:" + key */
    char *redis_exp; /* maps: key_prefix + "mapx:" + key */
    uint32_t slot;   /* of redis_key (and redis_exp) */
    char *field;
    char *value;
    size_t len;
    uint64_t ttl_ms;
    int64_t delta;   /* incr */
};

static void redis_op_free(struct redis_op *op)
{
    free(op->key);
    free(op->redis_key);
    free(op->redis_exp);
    free(op->field);
    free(op->value);
    free(op);
}

char *redis_name(const struct bus_redis *br, const char *space, const char *name, size_t *len)
{
    size_t lp = strlen(br->prefix), ls = strlen(space), ln = strlen(name);
    char *out = malloc(lp + ls + ln + 1);
    if (out) {
        memcpy(out, br->prefix, lp);
        memcpy(out + lp, space, ls);
        memcpy(out + lp + ls, name, ln + 1);
        if (len)
            *len = lp + ls + ln;
    }
    return out;
}

char *redis_state_kv_name(const struct bus_redis *br, const char *key, size_t *len)
{
    return redis_name(br, "kv:", key, len);
}

/* On a cluster "map:{key}" / "mapx:{key}": one hash tag, one slot. */
char *redis_state_map_name(const struct bus_redis *br, const char *key, int deadlines, size_t *len)
{
    if (br->mode != REDIS_MODE_CLUSTER)
        return redis_name(br, deadlines ? "mapx:" : "map:", key, len);
    size_t lk = strlen(key);
    char *tagged = malloc(lk + 3);
    if (!tagged)
        return NULL;
    tagged[0] = '{';
    memcpy(tagged + 1, key, lk);
    memcpy(tagged + 1 + lk, "}", 2);
    char *name = redis_name(br, deadlines ? "mapx:" : "map:", tagged, len);
    free(tagged);
    return name;
}

static int redis_op_is_map(enum redis_op_kind kind)
{
    return kind == REDIS_OP_MAP_SET || kind == REDIS_OP_MAP_DEL || kind == REDIS_OP_MAP_GET_ALL ||
           kind == REDIS_OP_MAP_COUNT;
}

static struct redis_op *redis_op_new(struct bus_redis *br, enum redis_op_kind kind, const char *key,
                                     const char *field, const char *value, size_t len, uint64_t ttl_ms,
                                     sbr_state_done_fn done, void *userdata)
{
    struct redis_op *op = calloc(1, sizeof(*op));
    if (!op)
        return NULL;
    op->br = br;
    op->kind = kind;
    op->done = done;
    op->userdata = userdata;
    op->len = len;
    op->ttl_ms = ttl_ms;
    op->key = strdup(key);
    int map = redis_op_is_map(kind);
    size_t len_key = 0;
    op->redis_key = map ? redis_state_map_name(br, key, 0, &len_key) : redis_state_kv_name(br, key, &len_key);
    op->redis_exp = map ? redis_state_map_name(br, key, 1, NULL) : NULL;
    op->slot = op->redis_key ? redis_route_slot(br, op->redis_key, len_key) : 0;
    op->field = field ? strdup(field) : NULL;
    if (value) {
        op->value = malloc(len + 1);
        if (op->value) {
            memcpy(op->value, value, len);
            op->value[len] = '\0';
        }
    }
    if (!op->key || !op->redis_key || (map && !op->redis_exp) || (field && !op->field) || (value && !op->value)) {
        redis_op_free(op);
        return NULL;
    }
    return op;
}

/* Answer from the in-process store (which defers the callback).  A change
 * made there while Redis is away is written back when it returns. */
static int redis_op_local(struct redis_op *op)
{
    local_bus *lb = op->br->local;
    if (op->br->url_text[0] && op->br->api->metric_add)
        op->br->api->metric_add(op->br->self, "superbot_bus_redis_local_answers_total", NULL, 1);
    if (op->br->url_text[0] && !op->br->usable)
        redis_writeback_note(op->br, op->kind, op->key, op->field);
    switch (op->kind) {
    case REDIS_OP_KV_SET:
        return local_bus_kv_set(lb, op->key, op->value, op->len, op->ttl_ms, op->done, op->userdata);
    case REDIS_OP_KV_GET:
        return local_bus_kv_get(lb, op->key, op->done, op->userdata);
    case REDIS_OP_KV_DEL:
        return local_bus_kv_del(lb, op->key, op->done, op->userdata);
    case REDIS_OP_RESERVE:
        return local_bus_reserve(lb, op->key, op->ttl_ms, op->done, op->userdata);
    case REDIS_OP_MAP_SET:
        return local_bus_map_set(lb, op->key, op->field, op->value, op->ttl_ms, op->done, op->userdata);
    case REDIS_OP_MAP_DEL:
        return local_bus_map_del(lb, op->key, op->field, op->done, op->userdata);
    case REDIS_OP_MAP_GET_ALL:
        return local_bus_map_get_all(lb, op->key, op->done, op->userdata);
    case REDIS_OP_MAP_COUNT:
        return local_bus_map_count(lb, op->key, op->done, op->userdata);
    case REDIS_OP_INCR:
        return local_bus_incr(lb, op->key, op->delta, op->ttl_ms, op->done, op->userdata);
    }
    return SBR_ERR_INVALID;
}

static void redis_op_answer(struct redis_op *op, sbr_state_reply *reply)
{
    reply->struct_size = sizeof(*reply);
    if (op->done)
        op->done(reply, op->userdata);
}

static void redis_op_fail(struct redis_op *op)
{
    sbr_state_reply reply = {.status = SBR_ERR_UNAVAILABLE};
    redis_op_answer(op, &reply);
}

static int redis_reply_int(const redisReply *r, long long *out)
{
    if (r->type != REDIS_REPLY_INTEGER)
        return -1;
    *out = r->integer;
    return 0;
}

/* {a, b} integer pairs of the reserve and map scripts. */
static int redis_reply_pair(const redisReply *r, long long *a, long long *b)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -1;
    return redis_reply_int(r->element[0], a) == 0 && redis_reply_int(r->element[1], b) == 0 ? 0 : -1;
}

/* {ok, value, ms left} of the incr script; the time left goes to
 * remaining_ms, for the mirror only. */
static int redis_decode_incr(const redisReply *r, sbr_state_reply *reply)
{
    long long ok, left;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || redis_reply_int(r->element[0], &ok) != 0 ||
        r->element[1]->type != REDIS_REPLY_STRING || redis_reply_int(r->element[2], &left) != 0)
        return -1;
    if (!ok) {
        reply->status = SBR_ERR_INVALID;
        return 0;
    }
    char *end;
    errno = 0;
    long long value = strtoll(r->element[1]->str, &end, 10);
    if (errno || *end || end == r->element[1]->str)
        return -1;
    reply->count = value;
    reply->remaining_ms = left;
    return 0;
}

/* Fill reply from a Redis answer; -1 when its shape is not the expected one. */
static int redis_op_decode(struct redis_op *op, const redisReply *r, sbr_state_reply *reply, const char ***arrays)
{
    long long a, b;
    switch (op->kind) {
    case REDIS_OP_KV_SET:
        return r->type == REDIS_REPLY_STATUS ? 0 : -1;
    case REDIS_OP_KV_GET:
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || redis_reply_int(r->element[1], &b) != 0)
            return -1;
        if (r->element[0]->type == REDIS_REPLY_NIL)
            return 0;
        if (r->element[0]->type != REDIS_REPLY_STRING)
            return -1;
        reply->found = 1;
        reply->value = r->element[0]->str;
        reply->value_len = r->element[0]->len;
        reply->remaining_ms = b; /* for the mirror only: -1 when it never expires */
        return 0;
    case REDIS_OP_KV_DEL:
        if (redis_reply_int(r, &a) != 0)
            return -1;
        reply->changed = a > 0;
        return 0;
    case REDIS_OP_RESERVE:
        if (redis_reply_pair(r, &a, &b) != 0)
            return -1;
        reply->acquired = a == 1;
        reply->remaining_ms = a == 1 ? 0 : b;
        return 0;
    case REDIS_OP_MAP_SET:
    case REDIS_OP_MAP_DEL:
        if (redis_reply_pair(r, &a, &b) != 0)
            return -1;
        reply->changed = a == 1;
        reply->count = b;
        return 0;
    case REDIS_OP_MAP_COUNT:
        if (redis_reply_int(r, &a) != 0)
            return -1;
        reply->count = a;
        return 0;
    case REDIS_OP_INCR:
        return redis_decode_incr(r, reply);
    case REDIS_OP_MAP_GET_ALL:
        if (r->type != REDIS_REPLY_ARRAY || r->elements % 2)
            return -1;
        reply->n = r->elements / 2;
        reply->count = (int64_t)reply->n;
        if (!reply->n)
            return 0;
        *arrays = malloc(r->elements * sizeof(char *));
        if (!*arrays)
            return -1;
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING) {
                free(*arrays);
                *arrays = NULL;
                return -1;
            }
            (*arrays)[(i % 2) * reply->n + i / 2] = r->element[i]->str;
        }
        reply->fields = *arrays;
        reply->values = *arrays + reply->n;
        return 0;
    }
    return -1;
}

static int redis_op_send(struct redis_op *op, int with_eval);

/* Copy what Redis answered into the in-process store. */
static void redis_op_mirror(struct redis_op *op, const sbr_state_reply *r)
{
    local_bus *lb = op->br->local;
    switch (op->kind) {
    case REDIS_OP_KV_SET:
        local_bus_kv_set(lb, op->key, op->value, op->len, op->ttl_ms, NULL, NULL);
        break;
    case REDIS_OP_KV_GET:
        if (r->found)
            local_bus_kv_set(lb, op->key, r->value, r->value_len,
                             r->remaining_ms > 0 ? (uint64_t)r->remaining_ms : 0, NULL, NULL);
        else
            local_bus_kv_del(lb, op->key, NULL, NULL);
        break;
    case REDIS_OP_KV_DEL:
        local_bus_kv_del(lb, op->key, NULL, NULL);
        break;
    case REDIS_OP_RESERVE: {
        int64_t left = r->acquired ? (int64_t)op->ttl_ms : r->remaining_ms;
        local_bus_kv_set(lb, op->key, "1", 1, left > 0 ? (uint64_t)left : 0, NULL, NULL);
        break;
    }
    case REDIS_OP_MAP_SET:
        local_bus_map_set(lb, op->key, op->field, op->value, op->ttl_ms, NULL, NULL);
        break;
    case REDIS_OP_MAP_DEL:
        local_bus_map_del(lb, op->key, op->field, NULL, NULL);
        break;
    case REDIS_OP_INCR:
        if (r->status == SBR_OK) {
            char text[24];
            int n = snprintf(text, sizeof(text), "%" PRId64, r->count);
            local_bus_kv_set(lb, op->key, text, (size_t)n, r->remaining_ms > 0 ? (uint64_t)r->remaining_ms : 0,
                             NULL, NULL);
        }
        break;
    case REDIS_OP_MAP_GET_ALL:
    case REDIS_OP_MAP_COUNT:
        break;
    }
}

/* Redis answered with an error.  A server that cannot serve us any more (a
 * replica after a failover, loading, lost its master, forgot our AUTH)
 * counts as down: reconnecting finds the new master.  Other errors (out of
 * memory, disk trouble) are logged at most every few seconds. */
static void redis_op_refused(struct redis_op *op, const char *error)
{
    static const char *const fatal[] = {"READONLY", "LOADING", "MASTERDOWN", "NOAUTH", "NOPERM", "CLUSTERDOWN"};
    struct bus_redis *br = op->br;
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        if (strncmp(error, fatal[i], strlen(fatal[i])) == 0) {
            char reason[300];
            snprintf(reason, sizeof(reason), "it answered: %s", error);
            redis_link_fail(br, reason);
            return;
        }
    }
    uint64_t now = br->api->now_ms();
    br->errors_unlogged++;
    if (now < br->error_logged_ms + REDIS_ERROR_LOG_EVERY_MS && br->error_logged_ms)
        return;
    br->api->log(br->self, SBR_LOG_WARN, "Redis refused %llu command(s), answered in-process; last error: %s",
                 (unsigned long long)br->errors_unlogged, error);
    br->errors_unlogged = 0;
    br->error_logged_ms = now;
}

static int redis_op_is_change(enum redis_op_kind kind)
{
    return kind == REDIS_OP_KV_SET || kind == REDIS_OP_KV_DEL || kind == REDIS_OP_RESERVE ||
           kind == REDIS_OP_MAP_SET || kind == REDIS_OP_MAP_DEL;
}

/* Redis answered op: decode, mirror and answer, or answer in-process. */
static void redis_op_answered(struct redis_op *op, const redisReply *reply)
{
    sbr_state_reply out = {.status = SBR_OK};
    const char **arrays = NULL;
    if (reply->type == REDIS_REPLY_ERROR || redis_op_decode(op, reply, &out, &arrays) != 0) {
        redis_op_refused(op, reply->type == REDIS_REPLY_ERROR ? reply->str : "an answer of the wrong type");
        if (redis_op_local(op) != SBR_OK)
            redis_op_fail(op);
    } else {
        redis_op_mirror(op, &out);
        if (redis_op_is_change(op->kind))
            redis_replay_note(op->br, op->kind, op->key, op->field);
        if (op->kind == REDIS_OP_KV_GET || op->kind == REDIS_OP_INCR)
            out.remaining_ms = 0;
        redis_op_answer(op, &out);
    }
    free(arrays);
}

static void redis_op_reply(struct redis_node *node, redisReply *reply, void *privdata)
{
    struct redis_op *op = privdata;
    struct bus_redis *br = op->br;
    if (br->unloading) {
        redis_op_free(op);
        return;
    }
    if (!reply) {
        /* The link died with this command unanswered (or it could not be
         * sent on): whether it ran is unknown, and the in-process store is
         * the truth from now on. */
        if (redis_op_local(op) != SBR_OK)
            redis_op_fail(op);
        redis_op_free(op);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0 && br->usable) {
        /* The script cache was flushed: EVAL loads it again. */
        if (redis_op_send(op, 1) != SBR_OK) {
            if (redis_op_local(op) != SBR_OK)
                redis_op_fail(op);
            redis_op_free(op);
        }
        return;
    }
    redis_op_answered(op, reply);
    redis_op_free(op);
}

static const char *redis_op_script(struct redis_op *op, enum redis_script *script)
{
    switch (op->kind) {
    case REDIS_OP_KV_GET: *script = REDIS_SCRIPT_KV_GET; break;
    case REDIS_OP_RESERVE: *script = REDIS_SCRIPT_RESERVE; break;
    case REDIS_OP_MAP_SET: *script = REDIS_SCRIPT_MAP_SET; break;
    case REDIS_OP_MAP_DEL: *script = REDIS_SCRIPT_MAP_DEL; break;
    case REDIS_OP_MAP_GET_ALL: *script = REDIS_SCRIPT_MAP_GET_ALL; break;
    case REDIS_OP_MAP_COUNT: *script = REDIS_SCRIPT_MAP_COUNT; break;
    case REDIS_OP_INCR: *script = REDIS_SCRIPT_INCR; break;
    default: return NULL;
    }
    return redis_script_source(*script);
}

/* Put the command on the command link.  Returns SBR_OK, or an error when
 * the link cannot take it (the caller then answers locally). */
static int redis_op_send(struct redis_op *op, int with_eval)
{
    struct bus_redis *br = op->br;
    if (!br->usable)
        return SBR_ERR_UNAVAILABLE;
    const char *argv[10];
    size_t lens[10];
    int argc = 0;
    char ttl[24], delta[24];
    snprintf(ttl, sizeof(ttl), "%" PRIu64, op->ttl_ms);
    snprintf(delta, sizeof(delta), "%" PRId64, op->delta);

#define ARG(s, l) (argv[argc] = (s), lens[argc] = (l), argc++)
#define ARGS(s) ARG((s), strlen(s))
    enum redis_script script = REDIS_SCRIPT_RESERVE;
    const char *source = redis_op_script(op, &script);
    if (source) {
        if (with_eval || !br->script_sha[script][0]) {
            ARGS("EVAL");
            ARGS(source);
        } else {
            ARGS("EVALSHA");
            ARGS(br->script_sha[script]);
        }
        int map = redis_op_is_map(op->kind);
        ARGS(map ? "2" : "1");
        ARGS(op->redis_key);
        if (map)
            ARGS(op->redis_exp);
        if (op->kind == REDIS_OP_INCR)
            ARGS(delta);
        if (op->kind == REDIS_OP_RESERVE || op->kind == REDIS_OP_INCR)
            ARGS(ttl);
        if (op->kind == REDIS_OP_MAP_SET || op->kind == REDIS_OP_MAP_DEL)
            ARGS(op->field);
        if (op->kind == REDIS_OP_MAP_SET) {
            ARGS(op->value);
            ARGS(ttl);
        }
    } else if (op->kind == REDIS_OP_KV_SET) {
        ARGS("SET");
        ARGS(op->redis_key);
        ARG(op->value, op->len);
        if (op->ttl_ms) {
            ARGS("PX");
            ARGS(ttl);
        }
    } else {
        ARGS("DEL");
        ARGS(op->redis_key);
    }
#undef ARG
#undef ARGS
    if (redis_route_command(br, op->slot, argc, argv, lens, redis_op_reply, op) != 0)
        return SBR_ERR_UNAVAILABLE;
    return SBR_OK;
}

/* Send op to Redis, or answer it in-process when the link cannot take it. */
static int redis_op_dispatch(struct redis_op *op)
{
    int rc = redis_op_send(op, 0);
    if (rc == SBR_OK)
        return SBR_OK;
    rc = redis_op_local(op);
    redis_op_free(op);
    return rc;
}

static int redis_op_start(struct bus_redis *br, enum redis_op_kind kind, const char *key, const char *field,
                          const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata)
{
    if (!br || !key)
        return SBR_ERR_INVALID;
    struct redis_op *op = redis_op_new(br, kind, key, field, value, len, ttl_ms, done, userdata);
    if (!op)
        return SBR_ERR_NOMEM;
    return redis_op_dispatch(op);
}

int redis_state_kv_set(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                       sbr_state_done_fn done, void *userdata)
{
    if (!value && len)
        return SBR_ERR_INVALID;
    return redis_op_start(ctx, REDIS_OP_KV_SET, key, NULL, value ? value : "", len, ttl_ms, done, userdata);
}

int redis_state_kv_get(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    return redis_op_start(ctx, REDIS_OP_KV_GET, key, NULL, NULL, 0, 0, done, userdata);
}

int redis_state_kv_del(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    return redis_op_start(ctx, REDIS_OP_KV_DEL, key, NULL, NULL, 0, 0, done, userdata);
}

int redis_state_reserve(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata)
{
    return redis_op_start(ctx, REDIS_OP_RESERVE, key, NULL, NULL, 0, ttl_ms, done, userdata);
}

int redis_state_incr(void *ctx, const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done,
                     void *userdata)
{
    if (!ctx || !key)
        return SBR_ERR_INVALID;
    struct redis_op *op = redis_op_new(ctx, REDIS_OP_INCR, key, NULL, NULL, 0, ttl_ms, done, userdata);
    if (!op)
        return SBR_ERR_NOMEM;
    op->delta = delta;
    return redis_op_dispatch(op);
}

int redis_state_map_set(void *ctx, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                        sbr_state_done_fn done, void *userdata)
{
    if (!field || !value)
        return SBR_ERR_INVALID;
    return redis_op_start(ctx, REDIS_OP_MAP_SET, key, field, value, strlen(value), ttl_ms, done, userdata);
}

int redis_state_map_del(void *ctx, const char *key, const char *field, sbr_state_done_fn done, void *userdata)
{
    if (!field)
        return SBR_ERR_INVALID;
    return redis_op_start(ctx, REDIS_OP_MAP_DEL, key, field, NULL, 0, 0, done, userdata);
}

int redis_state_map_get_all(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    return redis_op_start(ctx, REDIS_OP_MAP_GET_ALL, key, NULL, NULL, 0, 0, done, userdata);
}

int redis_state_map_count(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    return redis_op_start(ctx, REDIS_OP_MAP_COUNT, key, NULL, NULL, 0, 0, done, userdata);
}
