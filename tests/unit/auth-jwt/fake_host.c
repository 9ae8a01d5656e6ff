#include "fake_host.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#define MAX_ROUTES 8
#define MAX_HOOKS 8
#define MAX_CONNS 32
#define MAX_ROOMS 16
#define MAX_KV 16
#define MAX_QUEUE 32
#define MAX_METRICS 32

char fake_error[512];

static void *handle;
static const sbr_plugin_descriptor *descriptor;
static const char *conf_secret, *conf_session_secret;

static struct { const char *method, *pattern; sbr_http_handler fn; void *ud; } routes[MAX_ROUTES];
static size_t n_routes;
static struct { enum sbr_event_id id; sbr_hook_fn fn; void *ud; } hooks[MAX_HOOKS];
static size_t n_hooks;
static struct { sbr_bus_message_fn fn; void *ud; char topic[64]; } subscription;

struct fake_conn {
    const char *query_token, *authorization;
    char *rooms[MAX_ROOMS];
    size_t n_rooms;
    int resumed;
    const char *resumed_reason;
    const char *disconnected;
    char *ready;
    /* The identity, deep-copied as the core does. */
    sbr_identity identity;
    char *strings[2];
    char **servers;
    int has_identity;
};
static struct fake_conn conns[MAX_CONNS];
static size_t n_conns;

static struct { char key[128]; char value[16]; uint64_t ttl; } kv[MAX_KV];
static size_t n_kv;
static int bus_failing;

/* Deferred work: a state callback, or a bus message. */
struct queued {
    sbr_state_done_fn done;
    void *ud;
    int found;
    char topic[64];
    char data[256];
    size_t len;
};
static struct queued queue[MAX_QUEUE];
static size_t n_queue;

static struct { char name[96]; char labels[64]; double value; } metrics[MAX_METRICS];
static size_t n_metrics;

static struct fake_conn *conn_of(sbr_conn_id id)
{
    return id >= 1 && id <= n_conns ? &conns[id - 1] : NULL;
}

static void api_log(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...) {}

static void api_set_error(sbr_plugin *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fake_error, sizeof(fake_error), fmt, ap);
    va_end(ap);
}

static const char *api_config_string(sbr_plugin *self, const char *key)
{
    if (strcmp(key, "secret") == 0)
        return conf_secret;
    if (strcmp(key, "session_secret") == 0)
        return conf_session_secret;
    if (strcmp(key, "audience") == 0)
        return "superbot-realtime";
    if (strcmp(key, "issuer") == 0)
        return "superbot";
    ck_abort_msg("undeclared string key %s", key);
    return "";
}

static int64_t api_config_int(sbr_plugin *self, const char *key)
{
    if (strcmp(key, "ttl_seconds") == 0)
        return 300;
    if (strcmp(key, "leeway_seconds") == 0)
        return 5;
    if (strcmp(key, "max_token_bytes") == 0)
        return 4096;
    ck_abort_msg("undeclared int key %s", key);
    return 0;
}

static int api_hook_register(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *ud)
{
    ck_assert_uint_lt(n_hooks, MAX_HOOKS);
    hooks[n_hooks].id = id;
    hooks[n_hooks].fn = fn;
    hooks[n_hooks++].ud = ud;
    return SBR_OK;
}

static uint64_t api_now_ms(void)
{
    return (uint64_t)FAKE_NOW_S * 1000u + 250u;
}

static int api_http_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *ud)
{
    ck_assert_uint_lt(n_routes, MAX_ROUTES);
    routes[n_routes].method = method;
    routes[n_routes].pattern = pattern;
    routes[n_routes].fn = fn;
    routes[n_routes++].ud = ud;
    return SBR_OK;
}

static const char *api_http_param(sbr_http_request *req, const char *name)
{
    return strcmp(name, "sid") == 0 ? req->sid : NULL;
}

static const char *api_http_header(sbr_http_request *req, const char *name)
{
    return strcasecmp(name, "authorization") == 0 ? req->authorization : NULL;
}

static const char *api_http_body(sbr_http_request *req, size_t *len)
{
    *len = req->body ? strlen(req->body) : 0;
    return req->body;
}

static int api_http_reply(sbr_http_request *req, int status, const char *json_body, const char *extra)
{
    ck_assert_int_eq(req->status, 0);
    req->status = status;
    req->reply = json_body ? strdup(json_body) : NULL;
    return SBR_OK;
}

static int api_http_check_api_key(sbr_http_request *req)
{
    return req->authorization && strcmp(req->authorization, "Bearer " FAKE_API_KEY) == 0;
}

static const char *api_conn_query(sbr_conn_id id, const char *name)
{
    struct fake_conn *c = conn_of(id);
    return c && strcmp(name, "token") == 0 ? c->query_token : NULL;
}

static const char *api_conn_header(sbr_conn_id id, const char *name)
{
    struct fake_conn *c = conn_of(id);
    return c && strcasecmp(name, "authorization") == 0 ? c->authorization : NULL;
}

static int api_conn_set_identity(sbr_conn_id id, const sbr_identity *who)
{
    struct fake_conn *c = conn_of(id);
    if (!c)
        return SBR_ERR_GONE;
    ck_assert_int_eq(c->has_identity, 0);
    c->identity = *who;
    c->strings[0] = strdup(who->user_id);
    c->strings[1] = who->session_id ? strdup(who->session_id) : NULL;
    c->identity.user_id = c->strings[0];
    c->identity.session_id = c->strings[1];
    c->servers = calloc(who->n_servers + 1, sizeof(char *));
    for (size_t i = 0; i < who->n_servers; i++)
        c->servers[i] = strdup(who->servers[i]);
    c->identity.servers = (const char *const *)c->servers;
    c->identity.moderates = NULL;
    c->has_identity = 1;
    return SBR_OK;
}

static const sbr_identity *api_conn_identity(sbr_conn_id id)
{
    struct fake_conn *c = conn_of(id);
    return c && c->has_identity ? &c->identity : NULL;
}

static int api_conn_disconnect(sbr_conn_id id, const char *reason)
{
    struct fake_conn *c = conn_of(id);
    if (!c || c->disconnected)
        return SBR_ERR_GONE;
    c->disconnected = reason;
    return SBR_OK;
}

static int api_connect_resume(sbr_conn_id id, enum sbr_verdict verdict, const char *reason)
{
    struct fake_conn *c = conn_of(id);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->resumed, -1);
    c->resumed = (int)verdict;
    c->resumed_reason = reason;
    return SBR_OK;
}

static int api_room_join(sbr_conn_id id, const char *room)
{
    struct fake_conn *c = conn_of(id);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_lt(c->n_rooms, MAX_ROOMS);
    ck_assert_uint_le(strlen(room), 255);
    c->rooms[c->n_rooms++] = strdup(room);
    return SBR_OK;
}

int fake_in_room(sbr_conn_id id, const char *room)
{
    struct fake_conn *c = conn_of(id);
    for (size_t i = 0; c && i < c->n_rooms; i++)
        if (strcmp(c->rooms[i], room) == 0)
            return 1;
    return 0;
}

static size_t api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *ud)
{
    size_t n = 0;
    for (sbr_conn_id id = 1; id <= n_conns; id++) {
        if (!conns[id - 1].disconnected && fake_in_room(id, room)) {
            fn(id, ud);
            n++;
        }
    }
    return n;
}

static int api_emit(sbr_conn_id id, const char *event, const char *data, unsigned flags)
{
    struct fake_conn *c = conn_of(id);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(event, "ready");
    free(c->ready);
    c->ready = strdup(data);
    return SBR_OK;
}

static void queue_push(sbr_state_done_fn done, void *ud, int found, const char *topic, const char *data, size_t len)
{
    ck_assert_uint_lt(n_queue, MAX_QUEUE);
    memset(&queue[n_queue], 0, sizeof(queue[0]));
    queue[n_queue].done = done;
    queue[n_queue].ud = ud;
    queue[n_queue].found = found;
    if (topic) {
        snprintf(queue[n_queue].topic, sizeof(queue[0].topic), "%s", topic);
        ck_assert_uint_lt(len, sizeof(queue[0].data));
        memcpy(queue[n_queue].data, data, len);
        queue[n_queue].len = len;
    }
    n_queue++;
}

static int api_bus_publish(const char *topic, const char *data, size_t len)
{
    queue_push(NULL, NULL, 0, topic, data, len);
    return SBR_OK;
}

static int api_bus_subscribe(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *ud)
{
    snprintf(subscription.topic, sizeof(subscription.topic), "%s", topic);
    subscription.fn = fn;
    subscription.ud = ud;
    return SBR_OK;
}

static int api_kv_set(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done,
                      void *ud)
{
    if (!bus_failing) {
        ck_assert_uint_lt(n_kv, MAX_KV);
        snprintf(kv[n_kv].key, sizeof(kv[0].key), "%s", key);
        snprintf(kv[n_kv].value, sizeof(kv[0].value), "%.*s", (int)len, value);
        kv[n_kv++].ttl = ttl_ms;
    }
    queue_push(done, ud, 0, NULL, NULL, 0);
    return SBR_OK;
}

static int api_kv_get(const char *key, sbr_state_done_fn done, void *ud)
{
    queue_push(done, ud, fake_kv_ttl(key) != 0, NULL, NULL, 0);
    return SBR_OK;
}

static int api_metric_add(sbr_plugin *self, const char *name, const char *labels, double delta)
{
    const char *l = labels ? labels : "";
    for (size_t i = 0; i < n_metrics; i++) {
        if (strcmp(metrics[i].name, name) == 0 && strcmp(metrics[i].labels, l) == 0) {
            metrics[i].value += delta;
            return SBR_OK;
        }
    }
    ck_assert_uint_lt(n_metrics, MAX_METRICS);
    snprintf(metrics[n_metrics].name, sizeof(metrics[0].name), "%s", name);
    snprintf(metrics[n_metrics].labels, sizeof(metrics[0].labels), "%s", l);
    metrics[n_metrics++].value = delta;
    return SBR_OK;
}

static const sbr_api fake_api = {
    .abi_version = SBR_ABI_VERSION,
    .struct_size = sizeof(sbr_api),
    .log = api_log,
    .set_error = api_set_error,
    .config_string = api_config_string,
    .config_int = api_config_int,
    .hook_register = api_hook_register,
    .now_ms = api_now_ms,
    .http_route = api_http_route,
    .http_param = api_http_param,
    .http_header = api_http_header,
    .http_body = api_http_body,
    .http_reply = api_http_reply,
    .http_check_api_key = api_http_check_api_key,
    .conn_query = api_conn_query,
    .conn_header = api_conn_header,
    .conn_set_identity = api_conn_set_identity,
    .conn_identity = api_conn_identity,
    .conn_disconnect = api_conn_disconnect,
    .connect_resume = api_connect_resume,
    .room_join = api_room_join,
    .room_foreach = api_room_foreach,
    .emit = api_emit,
    .bus_publish = api_bus_publish,
    .bus_subscribe = api_bus_subscribe,
    .kv_set = api_kv_set,
    .kv_get = api_kv_get,
    .metric_add = api_metric_add,
};

static void fake_reset(void)
{
    for (size_t i = 0; i < n_conns; i++) {
        for (size_t r = 0; r < conns[i].n_rooms; r++)
            free(conns[i].rooms[r]);
        for (size_t s = 0; conns[i].servers && s < conns[i].identity.n_servers; s++)
            free(conns[i].servers[s]);
        free(conns[i].servers);
        free(conns[i].strings[0]);
        free(conns[i].strings[1]);
        free(conns[i].ready);
    }
    memset(conns, 0, sizeof(conns));
    n_conns = n_routes = n_hooks = n_kv = n_queue = n_metrics = 0;
    bus_failing = 0;
    fake_error[0] = '\0';
}

int fake_load(const char *secret, const char *session_secret)
{
    fake_reset();
    conf_secret = secret;
    conf_session_secret = session_secret;
    handle = dlopen(SBR_TEST_BUILD_DIR "/plugins/auth-jwt.so", RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(handle != NULL, "%s", dlerror());
    sbr_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, SBR_ENTRY_SYMBOL);
    ck_assert_ptr_nonnull(entry);
    descriptor = entry();
    ck_assert_uint_eq(descriptor->abi_version, SBR_ABI_VERSION);
    ck_assert_str_eq(descriptor->name, "auth-jwt");
    return descriptor->on_load((sbr_plugin *)&fake_api, &fake_api);
}

void fake_unload(void)
{
    if (descriptor && descriptor->on_unload)
        descriptor->on_unload((sbr_plugin *)&fake_api);
    fake_reset();
    if (handle)
        dlclose(handle);
    handle = NULL;
    descriptor = NULL;
}

void fake_http(const char *method, const char *pattern, struct sbr_http_request *req)
{
    for (size_t i = 0; i < n_routes; i++) {
        if (strcmp(routes[i].method, method) == 0 && strcmp(routes[i].pattern, pattern) == 0) {
            routes[i].fn(req, routes[i].ud);
            return;
        }
    }
    ck_abort_msg("no route %s %s", method, pattern);
}

static int run_hooks(enum sbr_event_id id, void *event)
{
    int verdict = SBR_PASS;
    for (size_t i = 0; i < n_hooks && verdict == SBR_PASS; i++)
        if (hooks[i].id == id)
            verdict = hooks[i].fn(id, event, hooks[i].ud);
    return verdict;
}

sbr_conn_id fake_connect(const char *query_token, const char *authorization, const char *auth_json, int *verdict,
                         const char **reason)
{
    ck_assert_uint_lt(n_conns, MAX_CONNS);
    struct fake_conn *c = &conns[n_conns++];
    c->query_token = query_token;
    c->authorization = authorization;
    c->resumed = -1;
    sbr_conn_id id = n_conns;
    sbr_event_connect ev = {.struct_size = sizeof(ev), .conn = id, .nsp = "/", .auth_json = auth_json};
    *verdict = run_hooks(SBR_EVENT_CONNECT, &ev);
    *reason = ev.reason;
    return id;
}

int fake_resumed(sbr_conn_id id, const char **reason)
{
    struct fake_conn *c = conn_of(id);
    *reason = c->resumed_reason;
    return c->resumed;
}

const char *fake_connected(sbr_conn_id id)
{
    sbr_event_connected ev = {.struct_size = sizeof(ev), .conn = id};
    run_hooks(SBR_EVENT_CONNECTED, &ev);
    return conn_of(id)->ready;
}

void fake_reload(const char *secret)
{
    if (secret)
        conf_secret = secret;
    sbr_event_reload ev = {.struct_size = sizeof(ev)};
    run_hooks(SBR_EVENT_RELOAD, &ev);
}

const char *fake_disconnected(sbr_conn_id id)
{
    return conn_of(id)->disconnected;
}

const sbr_identity *fake_identity(sbr_conn_id id)
{
    return api_conn_identity(id);
}

void fake_flush(void)
{
    /* Bounded: each round may queue more, never unboundedly. */
    for (int round = 0; round < 16 && n_queue > 0; round++) {
        size_t n = n_queue;
        struct queued batch[MAX_QUEUE];
        memcpy(batch, queue, n * sizeof(batch[0]));
        n_queue = 0;
        for (size_t i = 0; i < n; i++) {
            if (batch[i].done) {
                sbr_state_reply reply = {.struct_size = sizeof(reply),
                                         .status = bus_failing ? SBR_ERR_UNAVAILABLE : SBR_OK,
                                         .found = batch[i].found,
                                         .value = batch[i].found ? "1" : NULL,
                                         .value_len = batch[i].found ? 1 : 0};
                batch[i].done(&reply, batch[i].ud);
            } else if (subscription.fn && strcmp(batch[i].topic, subscription.topic) == 0) {
                subscription.fn(batch[i].topic, batch[i].data, batch[i].len, subscription.ud);
            }
        }
    }
    ck_assert_uint_eq(n_queue, 0);
}

void fake_bus_fail(int fail)
{
    bus_failing = fail;
}

double fake_metric(const char *name, const char *labels)
{
    for (size_t i = 0; i < n_metrics; i++)
        if (strcmp(metrics[i].name, name) == 0 && strcmp(metrics[i].labels, labels ? labels : "") == 0)
            return metrics[i].value;
    return 0;
}

uint64_t fake_kv_ttl(const char *key)
{
    for (size_t i = 0; i < n_kv; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].ttl;
    return 0;
}
