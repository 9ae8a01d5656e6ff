/* The core's side of the state-and-bus interface (see bus.h): state calls
 * go to the provider a bus plugin registered; topic interest is counted here
 * so the provider only hears about a topic's first and last subscriber;
 * local delivery of a publish waits for the next loop turn. */
#include "bus.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "log.h"
#include "metrics.h"

struct bus_sub {
    sbr_plugin *owner;
    sbr_bus_message_fn fn;
    void *userdata;
};

/* Topics are listed for iteration and indexed by name: every room a
 * connection joins looks its topic up, so the lookup must not grow with the
 * number of rooms. */
struct bus_topic {
    struct bus_topic *next, *prev;
    struct hashtab_node node; /* keyed by name */
    char *name;
    struct bus_sub *subs;
    size_t n_subs;
};

/* A publish waiting for the next loop turn to reach local subscribers. */
struct bus_pending {
    struct bus_pending *next;
    char *topic;
    char *data;
    size_t len;
};

static struct bus_topic *bus_topics;
static struct hashtab bus_topic_index;
static const sbr_bus_provider *bus_provider;
static void *bus_provider_ctx;
static sbr_plugin *bus_provider_owner;
static int bus_state = SBR_BUS_LOCAL;
static struct bus_pending *bus_queue_head, **bus_queue_tail = &bus_queue_head;
static struct event_base *bus_base;
static struct event *bus_queue_event;
static bus_state_listener bus_on_state;
static char *bus_health_text; /* the provider's part of /healthz */

int bus_init(struct event_base *base, bus_state_listener on_state)
{
    bus_base = base;
    bus_on_state = on_state;
    return 0;
}

int bus_state_get(void)
{
    return bus_state;
}

int bus_set_health(sbr_plugin *owner, const char *json_object)
{
    if (!bus_provider || owner != bus_provider_owner)
        return SBR_ERR_STATE;
    char *copy = json_object ? strdup(json_object) : NULL;
    if (json_object && !copy)
        return SBR_ERR_NOMEM;
    free(bus_health_text);
    bus_health_text = copy;
    return SBR_OK;
}

const char *bus_health(void)
{
    return bus_health_text;
}

const char *bus_state_name(void)
{
    switch (bus_state) {
    case SBR_BUS_CONNECTED:
        return "connected";
    case SBR_BUS_DOWN:
        return "down";
    default:
        return "disabled";
    }
}

static struct bus_topic *bus_topic_find(const char *name)
{
    struct hashtab_node *n = hashtab_find(&bus_topic_index, name);
    return n ? HASHTAB_ENTRY(n, struct bus_topic, node) : NULL;
}

static int bus_topic_live(const struct bus_topic *t)
{
    return t->n_subs > 0;
}

static struct bus_topic *bus_topic_get(const char *name)
{
    struct bus_topic *t = bus_topic_find(name);
    if (t)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return NULL;
    }
    t->node.key = t->name;
    if (hashtab_insert(&bus_topic_index, &t->node) != 0) {
        free(t->name);
        free(t);
        return NULL;
    }
    t->next = bus_topics;
    if (bus_topics)
        bus_topics->prev = t;
    bus_topics = t;
    return t;
}

/* Tell the provider when a topic gains its first or loses its last
 * interest, and forget topics nobody wants. */
static void bus_topic_changed(struct bus_topic *t, int was_live)
{
    int live = bus_topic_live(t);
    if (live != was_live && bus_provider) {
        int (*fn)(void *, const char *) = live ? bus_provider->subscribe : bus_provider->unsubscribe;
        if (fn && fn(bus_provider_ctx, t->name) != SBR_OK)
            log_warn("core", "bus: %s of topic '%s' failed", live ? "subscribe" : "unsubscribe", t->name);
    }
    if (live)
        return;
    hashtab_remove(&bus_topic_index, &t->node);
    if (t->prev)
        t->prev->next = t->next;
    else
        bus_topics = t->next;
    if (t->next)
        t->next->prev = t->prev;
    free(t->subs);
    free(t->name);
    free(t);
}

static int bus_core_topic(const char *topic)
{
    return strncmp(topic, BUS_CORE_TOPIC_PREFIX, sizeof(BUS_CORE_TOPIC_PREFIX) - 1) == 0;
}

const sbr_bus_provider *bus_provider_current(void **ctx)
{
    if (ctx)
        *ctx = bus_provider_ctx;
    return bus_provider;
}

int bus_topic_subscribed(const char *topic)
{
    struct bus_topic *t = topic ? bus_topic_find(topic) : NULL;
    return t && bus_topic_live(t);
}

int bus_publish_others(const char *topic, const char *data, size_t len)
{
    if (!bus_provider || !bus_provider->publish)
        return SBR_OK; /* one worker: nobody else to reach */
    int rc = bus_provider->publish(bus_provider_ctx, topic, data, len);
    if (rc != SBR_OK)
        core_metrics.bus_undelivered++;
    return rc;
}

/* Hand a message to this worker's subscribers of topic. */
static void bus_deliver_local(const char *topic, const char *data, size_t len)
{
    struct bus_topic *t = bus_topic_find(topic);
    if (!t)
        return;
    /* A plugin's topics change only at load and unload; the core's room
     * topics change as rooms fill and empty, never from their own
     * callback (delivering to a room changes no membership). */
    for (size_t i = 0; i < t->n_subs; i++)
        t->subs[i].fn(topic, data, len, t->subs[i].userdata);
}

static void bus_queue_run(evutil_socket_t fd, short what, void *arg)
{
    struct bus_pending *list = bus_queue_head;
    bus_queue_head = NULL;
    bus_queue_tail = &bus_queue_head;
    while (list) {
        struct bus_pending *m = list;
        list = m->next;
        bus_deliver_local(m->topic, m->data, m->len);
        free(m->topic);
        free(m->data);
        free(m);
    }
}

static int bus_queue_push(const char *topic, const char *data, size_t len)
{
    if (!bus_base)
        return SBR_ERR_STATE;
    if (!bus_queue_event && !(bus_queue_event = event_new(bus_base, -1, 0, bus_queue_run, NULL)))
        return SBR_ERR_NOMEM;
    struct bus_pending *m = calloc(1, sizeof(*m));
    if (!m)
        return SBR_ERR_NOMEM;
    m->topic = strdup(topic);
    m->data = malloc(len + 1);
    if (!m->topic || !m->data) {
        free(m->topic);
        free(m->data);
        free(m);
        return SBR_ERR_NOMEM;
    }
    memcpy(m->data, data, len);
    m->data[len] = '\0';
    m->len = len;
    *bus_queue_tail = m;
    bus_queue_tail = &m->next;
    event_active(bus_queue_event, EV_TIMEOUT, 0);
    return SBR_OK;
}

int bus_api_publish(const char *topic, const char *data, size_t len)
{
    if (!topic || !*topic || (!data && len) || bus_core_topic(topic))
        return SBR_ERR_INVALID;
    if (!data)
        data = "";
    int rc = SBR_OK;
    if (bus_provider && bus_provider->publish) {
        rc = bus_provider->publish(bus_provider_ctx, topic, data, len);
        if (rc != SBR_OK)
            core_metrics.bus_undelivered++;
    }
    int local = bus_queue_push(topic, data, len);
    return local != SBR_OK ? local : rc;
}

int bus_api_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *userdata)
{
    if (!topic || bus_core_topic(topic))
        return SBR_ERR_INVALID;
    return bus_subscribe(self, topic, fn, userdata);
}

int bus_subscribe(sbr_plugin *owner, const char *topic, sbr_bus_message_fn fn, void *userdata)
{
    if (!topic || !*topic || !fn)
        return SBR_ERR_INVALID;
    struct bus_topic *t = bus_topic_get(topic);
    if (!t)
        return SBR_ERR_NOMEM;
    struct bus_sub *grown = realloc(t->subs, (t->n_subs + 1) * sizeof(*grown));
    if (!grown) {
        bus_topic_changed(t, 0);
        return SBR_ERR_NOMEM;
    }
    int was = bus_topic_live(t);
    t->subs = grown;
    t->subs[t->n_subs++] = (struct bus_sub){owner, fn, userdata};
    bus_topic_changed(t, was);
    return SBR_OK;
}

void bus_unsubscribe(sbr_plugin *owner, const char *topic, sbr_bus_message_fn fn, void *userdata)
{
    struct bus_topic *t = topic ? bus_topic_find(topic) : NULL;
    if (!t)
        return;
    for (size_t i = 0; i < t->n_subs; i++) {
        struct bus_sub *s = &t->subs[i];
        if (s->owner == owner && s->fn == fn && s->userdata == userdata) {
            t->subs[i] = t->subs[--t->n_subs];
            bus_topic_changed(t, 1);
            return;
        }
    }
}

/* Connection state recovery is on: the provider hears it before any subscription. */
static int bus_room_log_wanted;

static void bus_room_log_tell(void)
{
    if (bus_room_log_wanted && bus_provider && BUS_PROVIDER_HAS(bus_provider, room_log_on))
        bus_provider->room_log_on(bus_provider_ctx);
}

void bus_room_log_want(int on)
{
    int was = bus_room_log_wanted;
    bus_room_log_wanted = on;
    if (on && !was)
        bus_room_log_tell();
}

int bus_api_provide(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx)
{
    if (!provider || provider->struct_size < offsetof(sbr_bus_provider, reserved))
        return SBR_ERR_INVALID;
    if (bus_provider)
        return SBR_ERR_STATE;
    bus_provider = provider;
    bus_provider_ctx = ctx;
    bus_provider_owner = self;
    bus_room_log_tell();
    /* Topics subscribed before the provider arrived. */
    for (struct bus_topic *t = bus_topics; t; t = t->next)
        if (provider->subscribe)
            provider->subscribe(ctx, t->name);
    return SBR_OK;
}

void bus_api_deliver(const char *topic, const char *data, size_t len)
{
    if (!topic || (!data && len))
        return;
    bus_deliver_local(topic, data ? data : "", len);
}

void bus_api_set_state(enum sbr_bus_state state, const char *detail)
{
    if ((int)state == bus_state || state < SBR_BUS_LOCAL || state > SBR_BUS_DOWN)
        return;
    int previous = bus_state;
    bus_state = (int)state;
    log_info("core", "bus state: %s%s%s%s", bus_state_name(), detail ? " (" : "", detail ? detail : "",
             detail ? ")" : "");
    if (bus_on_state)
        bus_on_state((int)state, previous, detail);
}

/* State services: route to the provider, or refuse without one.  On a
 * non-zero return `done` is never called. */
#define BUS_ROUTE(op, ...)                                                                                        \
    do {                                                                                                          \
        if (!done)                                                                                                \
            return SBR_ERR_INVALID;                                                                               \
        if (!bus_provider || !bus_provider->op)                                                                   \
            return SBR_ERR_UNAVAILABLE;                                                                           \
        return bus_provider->op(bus_provider_ctx, __VA_ARGS__);                                                   \
    } while (0)

int bus_api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    if (!key || (!value && len))
        return SBR_ERR_INVALID;
    BUS_ROUTE(kv_set, key, value ? value : "", len, ttl_ms, done, ud);
}

int bus_api_kv_get(const char *key, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    BUS_ROUTE(kv_get, key, done, ud);
}

int bus_api_kv_del(const char *key, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    BUS_ROUTE(kv_del, key, done, ud);
}

int bus_api_reserve(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    BUS_ROUTE(reserve, key, ttl_ms, done, ud);
}

int bus_api_incr(const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    /* A provider built before incr had its slot reserved (NULL). */
    if (bus_provider && !SBR_EVENT_HAS(bus_provider, sbr_bus_provider, incr))
        return SBR_ERR_UNAVAILABLE;
    BUS_ROUTE(incr, key, delta, ttl_ms, done, ud);
}

int bus_api_map_set(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done,
                    void *ud)
{
    if (!key || !field || !value)
        return SBR_ERR_INVALID;
    BUS_ROUTE(map_set, key, field, value, ttl_ms, done, ud);
}

int bus_api_map_del(const char *key, const char *field, sbr_state_done_fn done, void *ud)
{
    if (!key || !field)
        return SBR_ERR_INVALID;
    BUS_ROUTE(map_del, key, field, done, ud);
}

int bus_api_map_get_all(const char *key, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    BUS_ROUTE(map_get_all, key, done, ud);
}

int bus_api_map_count(const char *key, sbr_state_done_fn done, void *ud)
{
    if (!key)
        return SBR_ERR_INVALID;
    BUS_ROUTE(map_count, key, done, ud);
}

void bus_unregister_all(sbr_plugin *owner)
{
    struct bus_topic *t = bus_topics;
    while (t) {
        struct bus_topic *next = t->next;
        int was = bus_topic_live(t);
        size_t kept = 0;
        for (size_t i = 0; i < t->n_subs; i++)
            if (t->subs[i].owner != owner)
                t->subs[kept++] = t->subs[i];
        t->n_subs = kept;
        bus_topic_changed(t, was);
        t = next;
    }
    if (bus_provider && bus_provider_owner == owner) {
        bus_provider = NULL;
        bus_provider_ctx = NULL;
        bus_provider_owner = NULL;
        bus_state = SBR_BUS_LOCAL;
        free(bus_health_text);
        bus_health_text = NULL;
    }
}

void bus_free(void)
{
    free(bus_health_text);
    bus_health_text = NULL;
    struct bus_pending *m = bus_queue_head;
    while (m) {
        struct bus_pending *next = m->next;
        free(m->topic);
        free(m->data);
        free(m);
        m = next;
    }
    bus_queue_head = NULL;
    bus_queue_tail = &bus_queue_head;
    if (bus_queue_event)
        event_free(bus_queue_event);
    bus_queue_event = NULL;
    while (bus_topics) {
        struct bus_topic *t = bus_topics;
        bus_topics = t->next;
        free(t->subs);
        free(t->name);
        free(t);
    }
    hashtab_free(&bus_topic_index);
    bus_base = NULL;
    bus_on_state = NULL;
}
