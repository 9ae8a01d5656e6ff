/* The fake host's state and bus: an in-memory store of keys and of maps
 * whose fields expire on the host clock, topics, and the side a bus plugin
 * sees (bus_provide, bus_deliver, bus_set_state).  See fake_host.h. */
#define _GNU_SOURCE
#include "fake_host_private.h"

#include <stdio.h>
#include <string.h>

/* A key (field NULL) or a field of the map `key`. */
struct fake_entry { char *key; char *field; char *value; uint64_t expires; uint64_t ttl; };
struct fake_sub { char *topic; sbr_bus_message_fn fn; void *ud; };
struct fake_delivery { char *topic; char *data; size_t len; uint64_t offset; char *except; unsigned flags; };

static FAKE_ARRAY(struct fake_entry, entries);
static FAKE_ARRAY(struct fake_sub, subs);
static FAKE_ARRAY(struct fake_delivery, deliveries);
static FAKE_ARRAY(struct fake_delivery, room_deliveries);
static int failing;
static int bus_state = -1; /* -1: nothing reported yet */
static int bus_reports;
static char bus_detail[512];
static const sbr_bus_provider *provider;
static void *provider_ctx;

static int live(const struct fake_entry *e) { return e->expires == 0 || e->expires > fake_now(); }

static void entry_del(struct fake_entry *e)
{
    free(e->key);
    free(e->field);
    free(e->value);
    *e = entries[--n_entries];
}

/* The live entry, or NULL (an expired one is dropped on the way). */
static struct fake_entry *entry_find(const char *key, const char *field)
{
    for (size_t i = 0; i < n_entries; i++) {
        struct fake_entry *e = &entries[i];
        if (strcmp(e->key, key) != 0 || (field == NULL) != (e->field == NULL) || (field && strcmp(e->field, field) != 0))
            continue;
        if (live(e))
            return e;
        entry_del(e);
        return NULL;
    }
    return NULL;
}

static void entry_set(const char *key, const char *field, const char *value, size_t len, uint64_t ttl_ms)
{
    struct fake_entry *e = entry_find(key, field);
    if (!e) {
        FAKE_PUSH(entries, ((struct fake_entry){strdup(key), fake_strdup(field), NULL, 0, 0}));
        e = &entries[n_entries - 1];
    }
    free(e->value);
    e->value = strndup(value, len);
    e->expires = ttl_ms ? fake_now() + ttl_ms : 0;
    e->ttl = ttl_ms;
}

static int64_t map_live(const char *key)
{
    int64_t n = 0;
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].field && strcmp(entries[i].key, key) == 0 && live(&entries[i]))
            n++;
    return n;
}

/* Queue the reply of a state operation; NULL while failing (it then answers SBR_ERR_UNAVAILABLE). */
static struct fake_call *reply(sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = fake_queue(done, ud);
    if (!failing)
        return call;
    call->reply.status = SBR_ERR_UNAVAILABLE;
    return NULL;
}

static int api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    if (reply(done, ud))
        entry_set(key, NULL, value, len, ttl_ms);
    return SBR_OK;
}

static int api_kv_get(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    struct fake_entry *e = call ? entry_find(key, NULL) : NULL;
    if (e) {
        call->value = strdup(e->value);
        call->reply.found = 1;
        call->reply.value = call->value;
        call->reply.value_len = strlen(call->value);
    }
    return SBR_OK;
}

static int api_kv_del(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    struct fake_entry *e = call ? entry_find(key, NULL) : NULL;
    if (e) {
        entry_del(e);
        call->reply.changed = 1;
    }
    return SBR_OK;
}

static int api_reserve(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    struct fake_entry *e = call ? entry_find(key, NULL) : NULL;
    if (e) {
        call->reply.remaining_ms = e->expires ? (int64_t)(e->expires - fake_now()) : INT64_MAX;
    } else if (call) {
        entry_set(key, NULL, "1", 1, ttl_ms);
        call->reply.acquired = 1;
    }
    return SBR_OK;
}

/* As bus-local: a decimal counter; a key without expiry gets ttl_ms. */
static int api_incr(const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    struct fake_call *call = reply(done, ud);
    if (!call)
        return SBR_OK;
    struct fake_entry *e = entry_find(key, NULL);
    char *end = NULL;
    long long old = e ? strtoll(e->value, &end, 10) : 0;
    if (e && (!*e->value || *end)) {
        call->reply.status = SBR_ERR_INVALID;
        return SBR_OK;
    }
    uint64_t keep = e && e->expires ? e->expires - fake_now() : ttl_ms;
    char text[24];
    snprintf(text, sizeof text, "%lld", old + delta);
    entry_set(key, NULL, text, strlen(text), keep);
    call->reply.count = old + delta;
    return SBR_OK;
}

static int api_map_set(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done,
                       void *ud)
{
    struct fake_call *call = reply(done, ud);
    if (call) {
        call->reply.changed = entry_find(key, field) == NULL;
        entry_set(key, field, value, strlen(value), ttl_ms);
        call->reply.count = map_live(key);
    }
    return SBR_OK;
}

static int api_map_del(const char *key, const char *field, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    struct fake_entry *e = call ? entry_find(key, field) : NULL;
    if (e)
        entry_del(e);
    if (call) {
        call->reply.changed = e != NULL;
        call->reply.count = map_live(key);
    }
    return SBR_OK;
}

static int api_map_get_all(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    if (!call)
        return SBR_OK;
    size_t n = (size_t)map_live(key), k = 0;
    call->fields = calloc(n + 1, sizeof *call->fields);
    call->values = calloc(n + 1, sizeof *call->values);
    for (size_t i = 0; i < n_entries && k < n; i++) {
        if (entries[i].field && strcmp(entries[i].key, key) == 0 && live(&entries[i])) {
            call->fields[k] = strdup(entries[i].field);
            call->values[k++] = strdup(entries[i].value);
        }
    }
    call->reply.n = k;
    call->reply.fields = (const char *const *)call->fields;
    call->reply.values = (const char *const *)call->values;
    return SBR_OK;
}

static int api_map_count(const char *key, sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = reply(done, ud);
    if (call)
        call->reply.count = map_live(key);
    return SBR_OK;
}

/* --- the bus ------------------------------------------------------------------- */

static int api_bus_state(void) { return bus_state < 0 ? SBR_BUS_LOCAL : bus_state; }

static int api_bus_publish(const char *topic, const char *data, size_t len)
{
    struct fake_call *call = fake_queue(NULL, NULL);
    call->topic = strdup(topic);
    call->data = strndup(data, len);
    call->len = len;
    return SBR_OK;
}

static int api_bus_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(subs, ((struct fake_sub){strdup(topic), fn, ud}));
    return SBR_OK;
}

void fake_deliver(const char *topic, const char *data)
{
    fake_state_deliver(topic, data, strlen(data));
}

void fake_state_deliver(const char *topic, const char *data, size_t len)
{
    for (size_t i = 0; i < n_subs; i++)
        if (strcmp(subs[i].topic, topic) == 0)
            subs[i].fn(topic, data, len, subs[i].ud);
}

static int api_bus_provide(sbr_plugin *self, const sbr_bus_provider *p, void *ctx)
{
    if (!self->loading || provider)
        return SBR_ERR_STATE;
    provider = p;
    provider_ctx = ctx;
    return SBR_OK;
}

/* A message from another worker: recorded, and handed to this worker's subscribers. */
static void api_bus_deliver(const char *topic, const char *data, size_t len)
{
    struct fake_delivery d = {strdup(topic), malloc(len + 1), len, 0, NULL, 0};
    memcpy(d.data, data, len);
    d.data[len] = '\0';
    FAKE_PUSH(deliveries, d);
    fake_state_deliver(topic, data, len);
}

/* A room event with its offset (the room log): recorded. */
static void api_bus_deliver_room(const char *topic, uint64_t offset, const char *except, unsigned flags,
                                 const char *data, size_t len)
{
    struct fake_delivery d = {strdup(topic), malloc(len + 1), len, offset, strdup(except ? except : ""), flags};
    memcpy(d.data, data, len);
    d.data[len] = '\0';
    FAKE_PUSH(room_deliveries, d);
}

size_t fake_room_delivered(void) { return n_room_deliveries; }

const char *fake_room_delivery(size_t i, uint64_t *offset, const char **except, unsigned *flags, const char **topic)
{
    if (i >= n_room_deliveries)
        return NULL;
    *offset = room_deliveries[i].offset;
    *except = room_deliveries[i].except;
    *flags = room_deliveries[i].flags;
    *topic = room_deliveries[i].topic;
    return room_deliveries[i].data;
}

static void api_bus_set_state(enum sbr_bus_state state, const char *detail)
{
    sbr_event_bus_state ev = {.struct_size = sizeof ev, .state = state, .previous = api_bus_state(),
                              .detail = detail};
    bus_state = (int)state;
    bus_reports++;
    snprintf(bus_detail, sizeof bus_detail, "%s", detail ? detail : "");
    fake_log_line(NULL, SBR_LOG_INFO, "bus state %d: %s", (int)state, bus_detail);
    fake_notify(SBR_EVENT_BUS_STATE, &ev);
}

/* The provider's part of /healthz, kept as given (the core checks it is
 * a JSON object; the tests read it with fake_bus_health). */
static char bus_health[4096];

static int api_bus_set_health(sbr_plugin *self, const char *json_object)
{
    if (!provider)
        return SBR_ERR_STATE;
    snprintf(bus_health, sizeof bus_health, "%s", json_object ? json_object : "");
    return json_object && json_object[0] != '{' ? SBR_ERR_INVALID : SBR_OK;
}

void fake_bus_change(enum sbr_bus_state state, int lose_state)
{
    while (lose_state && n_entries)
        entry_del(&entries[0]);
    api_bus_set_state(state, "test");
    fake_run();
}

/* --- the test's side --------------------------------------------------------------- */

size_t fake_map_count(const char *key) { return (size_t)map_live(key); }

const char *fake_map_value(const char *key, const char *field)
{
    struct fake_entry *e = entry_find(key, field);
    return e ? e->value : NULL;
}

const char *fake_kv_value(const char *key)
{
    struct fake_entry *e = entry_find(key, NULL);
    return e ? e->value : NULL;
}

uint64_t fake_kv_ttl(const char *key)
{
    struct fake_entry *e = entry_find(key, NULL);
    return e ? e->ttl : 0;
}

void fake_kv_put(const char *key, const char *value) { entry_set(key, NULL, value, strlen(value), 0); }
const char *fake_map_field(const char *key, size_t i)
{
    for (size_t k = 0; k < n_entries; k++)
        if (entries[k].field && strcmp(entries[k].key, key) == 0 && live(&entries[k]) && i-- == 0)
            return entries[k].field;
    return NULL;
}

void fake_map_put(const char *key, const char *field, const char *value, uint64_t ttl_ms)
{
    entry_set(key, field, value, strlen(value), ttl_ms);
}
void fake_bus_fail(int fail) { failing = fail; }
int fake_bus_state(void) { return bus_state; }
const char *fake_bus_detail(void) { return bus_detail; }
const char *fake_bus_health(void) { return bus_health; }
int fake_bus_reports(void) { return bus_reports; }
const sbr_bus_provider *fake_provider(void) { return provider; }
void *fake_provider_ctx(void) { return provider_ctx; }
size_t fake_delivered(void) { return n_deliveries; }
const char *fake_delivered_topic(size_t i) { return i < n_deliveries ? deliveries[i].topic : NULL; }

const char *fake_delivered_data(size_t i, size_t *len)
{
    if (i >= n_deliveries)
        return NULL;
    *len = deliveries[i].len;
    return deliveries[i].data;
}

void fake_state_api(sbr_api *api)
{
    api->kv_set = api_kv_set;
    api->kv_get = api_kv_get;
    api->kv_del = api_kv_del;
    api->reserve = api_reserve;
    api->incr = api_incr;
    api->map_set = api_map_set;
    api->map_del = api_map_del;
    api->map_get_all = api_map_get_all;
    api->map_count = api_map_count;
    api->bus_state = api_bus_state;
    api->bus_publish = api_bus_publish;
    api->bus_subscribe = api_bus_subscribe;
    api->bus_provide = api_bus_provide;
    api->bus_deliver = api_bus_deliver;
    api->bus_set_state = api_bus_set_state;
    api->bus_deliver_room = api_bus_deliver_room;
    api->bus_set_health = api_bus_set_health;
}

void fake_state_reset(void)
{
    while (n_entries)
        entry_del(&entries[0]);
    for (size_t i = 0; i < n_subs; i++)
        free(subs[i].topic);
    n_subs = 0;
    for (size_t i = 0; i < n_deliveries; i++) {
        free(deliveries[i].topic);
        free(deliveries[i].data);
    }
    n_deliveries = 0;
    for (size_t i = 0; i < n_room_deliveries; i++) {
        free(room_deliveries[i].topic);
        free(room_deliveries[i].data);
        free(room_deliveries[i].except);
    }
    n_room_deliveries = 0;
    failing = 0;
    bus_state = -1;
    bus_reports = 0;
    bus_detail[0] = '\0';
    bus_health[0] = '\0';
    provider = NULL;
    provider_ctx = NULL;
}
