#include "local_bus.h"

#include "deadline_timer.h"
#include "local_roomlog.h"
#include "local_store.h"
#include "reply_queue.h"

#include <stdlib.h>
#include <string.h>

/* Gauge of what the in-process store holds, so a leak or a stuck expiry
 * shows on /metrics. */
#define LOCAL_BUS_METRIC "superbot_bus_local_entries"

struct local_bus {
    sbr_plugin *self;
    const sbr_api *api;
    local_store *store;
    reply_queue *replies;
    local_roomlog *rooms;
    struct deadline_timer expiry;
    size_t reported_size;
};

static void local_bus_expiry_fire(void *userdata);

/* Keep one timer on the earliest deadline, so an idle store costs nothing
 * and memory is given back even when nobody reads the expired data. */
static void local_bus_after_change(local_bus *lb)
{
    size_t size = local_store_size(lb->store);
    if (size != lb->reported_size) {
        lb->reported_size = size;
        if (lb->api->metric_set)
            lb->api->metric_set(lb->self, LOCAL_BUS_METRIC, NULL, (double)size);
    }
    deadline_timer_arm(&lb->expiry, lb->self, lb->api, local_store_next_deadline(lb->store), local_bus_expiry_fire,
                       lb);
}

static void local_bus_expiry_fire(void *userdata)
{
    local_bus *lb = userdata;
    lb->expiry.id = 0;
    local_store_purge(lb->store, lb->api->now_ms());
    local_bus_after_change(lb);
}

static const sbr_metric_def local_bus_metrics[] = {
    {LOCAL_BUS_METRIC, SBR_METRIC_GAUGE, "Keys, map fields and reservations held in this worker's in-process state",
     NULL},
    {NULL, 0, NULL, NULL},
};

local_bus *local_bus_new(sbr_plugin *self, const sbr_api *api)
{
    if (sbr_metrics_declare(api, self, local_bus_metrics) != SBR_OK)
        return NULL;
    local_bus *lb = calloc(1, sizeof(*lb));
    if (!lb)
        return NULL;
    lb->self = self;
    lb->api = api;
    lb->store = local_store_new();
    lb->replies = reply_queue_new(self, api);
    lb->rooms = local_roomlog_new(self, api);
    if (!lb->store || !lb->replies || !lb->rooms) {
        local_bus_free(lb);
        return NULL;
    }
    return lb;
}

void local_bus_free(local_bus *lb)
{
    if (!lb)
        return;
    deadline_timer_stop(&lb->expiry, lb->self, lb->api);
    reply_queue_free(lb->replies);
    local_roomlog_free(lb->rooms);
    local_store_free(lb->store);
    free(lb);
}

struct local_store *local_bus_store(local_bus *lb)
{
    return lb->store;
}

static int local_bus_answer(local_bus *lb, sbr_state_done_fn done, void *userdata, sbr_state_reply *reply)
{
    reply->struct_size = sizeof(*reply);
    int rc = reply_queue_push(lb->replies, done, userdata, reply);
    local_bus_after_change(lb);
    return rc;
}

/* The whole reply on error: status only. */
static int local_bus_answer_status(local_bus *lb, sbr_state_done_fn done, void *userdata, int status)
{
    sbr_state_reply reply = {.status = status};
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_kv_set(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                     sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key || (!value && len))
        return SBR_ERR_INVALID;
    int rc = local_store_kv_set(lb->store, key, value ? value : "", len, ttl_ms, lb->api->now_ms());
    return local_bus_answer_status(lb, done, userdata, rc);
}

int local_bus_kv_get(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    reply.found = local_store_kv_get(lb->store, key, lb->api->now_ms(), &reply.value, &reply.value_len);
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_kv_del(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    reply.changed = local_store_kv_del(lb->store, key, lb->api->now_ms());
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_reserve(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    int rc = local_store_reserve(lb->store, key, ttl_ms, lb->api->now_ms(), &reply.remaining_ms);
    if (rc < 0)
        return local_bus_answer_status(lb, done, userdata, rc);
    reply.acquired = rc;
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_incr(void *ctx, const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    int rc = local_store_incr(lb->store, key, delta, ttl_ms, lb->api->now_ms(), &reply.count);
    if (rc < 0)
        return local_bus_answer_status(lb, done, userdata, rc);
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_map_set(void *ctx, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                      sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key || !field || !value)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    int rc = local_store_map_set(lb->store, key, field, value, ttl_ms, lb->api->now_ms(), &reply.count);
    if (rc < 0)
        return local_bus_answer_status(lb, done, userdata, rc);
    reply.changed = rc;
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_map_del(void *ctx, const char *key, const char *field, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key || !field)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    reply.changed = local_store_map_del(lb->store, key, field, lb->api->now_ms(), &reply.count);
    return local_bus_answer(lb, done, userdata, &reply);
}

struct local_bus_fields {
    const char **fields;
    const char **values;
    size_t n;
};

static void local_bus_collect(const char *field, const char *value, void *userdata)
{
    struct local_bus_fields *c = userdata;
    c->fields[c->n] = field;
    c->values[c->n] = value;
    c->n++;
}

int local_bus_map_get_all(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    uint64_t now = lb->api->now_ms();
    size_t n = local_store_map_count(lb->store, key, now);
    struct local_bus_fields c = {NULL, NULL, 0};
    if (n) {
        c.fields = malloc(n * sizeof(*c.fields));
        c.values = malloc(n * sizeof(*c.values));
        if (!c.fields || !c.values) {
            free(c.fields);
            free(c.values);
            return SBR_ERR_NOMEM;
        }
        local_store_map_foreach(lb->store, key, now, local_bus_collect, &c);
    }
    sbr_state_reply reply = {.status = SBR_OK, .n = c.n, .count = (int64_t)c.n};
    reply.fields = c.fields;
    reply.values = c.values;
    int rc = local_bus_answer(lb, done, userdata, &reply);
    free(c.fields);
    free(c.values);
    return rc;
}

int local_bus_map_count(void *ctx, const char *key, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    if (!lb || !key)
        return SBR_ERR_INVALID;
    sbr_state_reply reply = {.status = SBR_OK};
    reply.count = (int64_t)local_store_map_count(lb->store, key, lb->api->now_ms());
    return local_bus_answer(lb, done, userdata, &reply);
}

int local_bus_room_publish(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                           unsigned flags, uint64_t max_events, uint64_t keep_ms)
{
    local_bus *lb = ctx;
    return lb ? local_roomlog_publish(lb->rooms, topic, data, len, except, flags, max_events, keep_ms)
              : SBR_ERR_INVALID;
}

int local_bus_room_replay(void *ctx, const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata)
{
    local_bus *lb = ctx;
    return lb ? local_roomlog_replay(lb->rooms, request, done, userdata) : SBR_ERR_INVALID;
}

int local_bus_room_flush(void *ctx, sbr_state_done_fn done, void *userdata)
{
    local_bus *lb = ctx;
    return lb ? local_roomlog_flush(lb->rooms, done, userdata) : SBR_ERR_INVALID;
}
