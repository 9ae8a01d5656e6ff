/* The fake host's core (see fake_host.h): plugins and their config, logs,
 * metrics, hooks, the clock, timers, the queue and the event loop. */
#define _GNU_SOURCE
#include "fake_host_private.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#ifndef FAKE_HOST_STANDALONE
#include <event2/event.h>
#endif

#define FAKE_START_MS 1750000000000ull

struct fake_timer { sbr_timer_id id; uint64_t due; uint64_t interval; void (*fn)(void *); void *ud; };
struct fake_metric { char *name; char *labels; double value; };
struct fake_metric_decl { char *name; int type; char *help; };

FAKE_ARRAY(struct fake_hook, fake_hooks);
static FAKE_ARRAY(sbr_plugin *, plugins);
static FAKE_ARRAY(struct fake_timer, timers);
static FAKE_ARRAY(struct fake_call *, queue);
static FAKE_ARRAY(struct fake_metric, metrics);
static FAKE_ARRAY(struct fake_metric_decl, metric_decls);
static FAKE_ARRAY(char *, strings);

static uint64_t clock_ms = FAKE_START_MS; /* when frozen; else an offset to real time */
static int clock_real;
static sbr_timer_id next_timer = 1;
static char load_error[512];
static char load_error_key[64];
static char *log_text;
static size_t log_len;
static sbr_api table;

char *fake_strdup(const char *s) { return s ? strdup(s) : NULL; }

static uint64_t real_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

/* --- logs, errors, config, metrics ----------------------------------------- */

void fake_log_line(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    log_text = realloc(log_text, log_len + len + 2);
    memcpy(log_text + log_len, line, len);
    log_len += len;
    log_text[log_len++] = '\n';
    log_text[log_len] = '\0';
    if (getenv("SBR_TEST_VERBOSE"))
        fprintf(stderr, "[%s %d] %s\n", self ? self->name : "host", (int)level, line);
}

static void api_set_error(sbr_plugin *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(load_error, sizeof load_error, fmt, ap);
    va_end(ap);
    load_error_key[0] = '\0';
}

static void api_set_error_key(sbr_plugin *self, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(load_error, sizeof load_error, fmt, ap);
    va_end(ap);
    snprintf(load_error_key, sizeof load_error_key, "%s", key);
}

static char **config_slot(sbr_plugin *self, const char *key)
{
    for (size_t i = 0; i < self->n_config; i++)
        if (strcmp(self->keys[i], key) == 0)
            return &self->values[i];
    return NULL;
}

/* As the core: only declared keys exist. */
static const char *api_config_string(sbr_plugin *self, const char *key)
{
    char **slot = config_slot(self, key);
    fake_check(slot != NULL, "%s read the undeclared key %s", self->name, key);
    return *slot;
}
static int64_t api_config_int(sbr_plugin *self, const char *key)
{
    return strtoll(api_config_string(self, key), NULL, 10);
}
static int api_config_bool(sbr_plugin *self, const char *key)
{
    const char *v = api_config_string(self, key);
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0;
}
static double api_config_double(sbr_plugin *self, const char *key)
{
    return strtod(api_config_string(self, key), NULL);
}

static struct fake_metric *metric_find(const char *name, const char *labels, int create)
{
    labels = labels ? labels : "";
    for (size_t i = 0; i < n_metrics; i++)
        if (strcmp(metrics[i].name, name) == 0 && strcmp(metrics[i].labels, labels) == 0)
            return &metrics[i];
    if (!create)
        return NULL;
    FAKE_PUSH(metrics, ((struct fake_metric){strdup(name), strdup(labels), 0}));
    return &metrics[n_metrics - 1];
}
static const struct fake_metric_decl *metric_decl(const char *name)
{
    for (size_t i = 0; i < n_metric_decls; i++)
        if (strcmp(metric_decls[i].name, name) == 0)
            return &metric_decls[i];
    return NULL;
}
static int api_metric_declare(sbr_plugin *self, const char *name, enum sbr_metric_type type, const char *help)
{
    const struct fake_metric_decl *d = metric_decl(name);
    if (d)
        return d->type == (int)type ? SBR_OK : SBR_ERR_INVALID;
    if (!help || !*help || (type != SBR_METRIC_COUNTER && type != SBR_METRIC_GAUGE))
        return SBR_ERR_INVALID;
    FAKE_PUSH(metric_decls, ((struct fake_metric_decl){strdup(name), (int)type, strdup(help)}));
    return SBR_OK;
}
/* Every metric a plugin updates must be declared first, with its type: a
 * built-in that forgets is a failing test, not a metric without help text. */
static void metric_check_declared(const char *name, int type)
{
    const struct fake_metric_decl *d = metric_decl(name);
    if (!d || d->type != type) {
        fprintf(stderr, "fake host: metric %s used as a %s without metric_declare of that type\n", name,
                type == SBR_METRIC_GAUGE ? "gauge" : "counter");
        abort();
    }
}
static int api_metric_add(sbr_plugin *self, const char *name, const char *labels, double delta)
{
    metric_check_declared(name, SBR_METRIC_COUNTER);
    metric_find(name, labels, 1)->value += delta;
    return SBR_OK;
}
static int api_metric_set(sbr_plugin *self, const char *name, const char *labels, double value)
{
    metric_check_declared(name, SBR_METRIC_GAUGE);
    metric_find(name, labels, 1)->value = value;
    return SBR_OK;
}
const char *fake_metric_help(const char *name)
{
    const struct fake_metric_decl *d = metric_decl(name);
    return d ? d->help : NULL;
}
double fake_metric(const char *name, const char *labels)
{
    struct fake_metric *m = metric_find(name, labels, 0);
    return m ? m->value : -1;
}

const char *fake_error(void) { return load_error; }
const char *fake_error_key(void) { return load_error_key; }
const char *fake_log(void) { return log_text ? log_text : ""; }

/* --- hooks, clock, timers ------------------------------------------------------ */

static int api_hook_register(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(fake_hooks, ((struct fake_hook){self, id, fn, ud, FAKE_HOOK_ID, NULL}));
    return SBR_OK;
}

/* As the core: one handler per name, filters in registration order. */
static int api_message_named(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *ud, int kind)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    if (!event || !*event || !fn)
        return SBR_ERR_INVALID;
    for (size_t i = 0; kind == FAKE_HOOK_HANDLER && i < n_fake_hooks; i++)
        if (fake_hooks[i].kind == FAKE_HOOK_HANDLER && strcmp(fake_hooks[i].name, event) == 0)
            return SBR_ERR_STATE;
    FAKE_PUSH(fake_hooks, ((struct fake_hook){self, SBR_EVENT_MESSAGE, fn, ud, kind, fake_strdup(event)}));
    return SBR_OK;
}

static int api_message_handler(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *ud)
{
    return api_message_named(self, event, fn, ud, FAKE_HOOK_HANDLER);
}

static int api_message_filter(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *ud)
{
    return api_message_named(self, event, fn, ud, FAKE_HOOK_FILTER);
}

static char fake_worker[32] = FAKE_WORKER_ID;

static const char *api_worker_id(void)
{
    return fake_worker;
}

void fake_set_worker_id(const char *id)
{
    snprintf(fake_worker, sizeof fake_worker, "%s", id ? id : FAKE_WORKER_ID);
}

void fake_notify(enum sbr_event_id id, void *event)
{
    for (size_t i = 0; i < n_fake_hooks; i++)
        if (fake_hooks[i].id == id && fake_hooks[i].kind == FAKE_HOOK_ID)
            fake_hooks[i].fn(id, event, fake_hooks[i].ud);
}

uint64_t fake_now(void) { return clock_real ? real_ms() + clock_ms : clock_ms; }
void fake_set_clock(uint64_t ms) { clock_ms = ms, clock_real = 0; }
void fake_real_clock(void) { clock_ms = 0, clock_real = 1; }

static sbr_timer_id api_timer_start(sbr_plugin *self, uint64_t delay_ms, int repeat, void (*fn)(void *), void *ud)
{
    struct fake_timer t = {next_timer++, fake_now() + delay_ms, repeat ? (delay_ms ? delay_ms : 1) : 0, fn, ud};
    FAKE_PUSH(timers, t);
    return t.id;
}

static void api_timer_stop(sbr_plugin *self, sbr_timer_id id)
{
    for (size_t i = 0; i < n_timers; i++)
        if (timers[i].id == id) {
            timers[i] = timers[--n_timers];
            return;
        }
}

int fake_active_timers(void) { return (int)n_timers; }

/* Fire the earliest timer due by `until` (ties in start order); 0 if none. */
static int timer_fire_next(uint64_t until)
{
    struct fake_timer *next = NULL;
    for (size_t i = 0; i < n_timers; i++)
        if (timers[i].due <= until && (!next || timers[i].due < next->due ||
                                       (timers[i].due == next->due && timers[i].id < next->id)))
            next = &timers[i];
    if (!next)
        return 0;
    if (!clock_real && next->due > clock_ms)
        clock_ms = next->due;
    void (*fn)(void *) = next->fn;
    void *ud = next->ud;
    if (next->interval)
        next->due += next->interval;
    else
        *next = timers[--n_timers];
    fn(ud);
    return 1;
}

void fake_advance(uint64_t ms)
{
    uint64_t target = fake_now() + ms;
    do
        fake_run();
    while (timer_fire_next(target));
    if (clock_real)
        clock_ms += ms;
    else
        clock_ms = target;
    fake_run();
}

/* --- the queue and the loop ------------------------------------------------------ */

struct fake_call *fake_queue(sbr_state_done_fn done, void *ud)
{
    struct fake_call *call = calloc(1, sizeof *call);
    call->done = done;
    call->ud = ud;
    call->reply.struct_size = sizeof call->reply;
    call->reply.status = SBR_OK;
    FAKE_PUSH(queue, call);
    return call;
}

static void call_free(struct fake_call *call)
{
    for (size_t i = 0; call->fields && call->fields[i]; i++)
        free(call->fields[i]);
    for (size_t i = 0; call->values && call->values[i]; i++)
        free(call->values[i]);
    free(call->fields);
    free(call->values);
    free(call->value);
    free(call->topic);
    free(call->data);
    free(call);
}

void fake_run(void)
{
    /* Bounded: a plugin that queues forever fails the test instead of hanging it. */
    for (int rounds = 0; n_queue > 0 && rounds < 100000; rounds++) {
        struct fake_call *call = queue[0];
        memmove(queue, queue + 1, (n_queue - 1) * sizeof *queue);
        n_queue--;
        if (call->topic)
            fake_state_deliver(call->topic, call->data, call->len);
        else if (call->close)
            fake_conn_close(call->close, call->data);
        else if (call->done)
            call->done(&call->reply, call->ud);
        call_free(call);
    }
    fake_check(n_queue == 0, "the plugins keep queueing work");
}

/* The event loop, for plugins that drive sockets (not in FAKE_HOST_STANDALONE). */
#ifndef FAKE_HOST_STANDALONE
static struct event_base *base;

static void *api_event_base(void)
{
    if (!base)
        base = event_base_new();
    return base;
}

static void loop_wake(evutil_socket_t fd, short what, void *arg) {}

int fake_run_until_fn(int (*cond)(void *ud), void *ud, int timeout_ms)
{
    uint64_t end = real_ms() + (uint64_t)timeout_ms;
    /* A short tick so that timers and the condition are checked while sockets are quiet. */
    struct event *tick = event_new(api_event_base(), -1, 0, loop_wake, NULL);
    for (;;) {
        fake_run();
        while (timer_fire_next(fake_now()))
            fake_run();
        if (cond(ud) || real_ms() >= end)
            break;
        struct timeval tv = {0, 2000};
        event_add(tick, &tv);
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(tick);
    return cond(ud);
}

static int flag_set(void *ud) { return *(const volatile int *)ud != 0; }
static int never(void *ud) { return 0; }

int fake_run_until(const volatile int *flag, int timeout_ms)
{
    return fake_run_until_fn(flag_set, (void *)(uintptr_t)flag, timeout_ms);
}

void fake_run_for(int ms) { fake_run_until_fn(never, NULL, ms); }

static void loop_forget(int unload)
{
    if (base && unload)
        event_base_free(base);
    base = NULL;
}
#else
static void loop_forget(int unload) {}
#endif

/* --- loading and unloading --------------------------------------------------------- */

static const sbr_api *services(void)
{
    if (table.struct_size)
        return &table;
    table.abi_version = SBR_ABI_VERSION;
    table.struct_size = sizeof table;
    table.log = fake_log_line;
    table.set_error = api_set_error;
    table.set_error_key = api_set_error_key;
    table.config_string = api_config_string;
    table.config_int = api_config_int;
    table.config_bool = api_config_bool;
    table.config_double = api_config_double;
    table.hook_register = api_hook_register;
    table.timer_start = api_timer_start;
    table.timer_stop = api_timer_stop;
    table.now_ms = fake_now;
#ifndef FAKE_HOST_STANDALONE
    table.event_base = api_event_base;
#endif
    table.metric_add = api_metric_add;
    table.metric_set = api_metric_set;
    table.metric_declare = api_metric_declare;
    table.message_handler = api_message_handler;
    table.message_filter = api_message_filter;
    table.worker_id = api_worker_id;
    fake_conn_api(&table);
    fake_http_api(&table);
    fake_state_api(&table);
    return &table;
}

/* The value of key in {"key", "value", ..., NULL}, or NULL. */
static const char *config_lookup(const char *const *config, const char *key)
{
    for (size_t i = 0; config && config[i] && config[i + 1]; i += 2)
        if (strcmp(config[i], key) == 0)
            return config[i + 1];
    return NULL;
}

int fake_load(const char *name, const char *const *config)
{
    char path[1024];
    load_error[0] = load_error_key[0] = '\0';
    snprintf(path, sizeof path, "%s/plugins/%s.so", SBR_TEST_BUILD_DIR, name);
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(load_error, sizeof load_error, "dlopen: %s", dlerror());
        return -1;
    }
    sbr_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, SBR_ENTRY_SYMBOL);
    const sbr_plugin_descriptor *desc = entry ? entry() : NULL;
    if (!desc || desc->abi_version != SBR_ABI_VERSION || strcmp(desc->name, name) != 0) {
        snprintf(load_error, sizeof load_error, "%s.so: no descriptor, another ABI or another name", name);
        dlclose(handle);
        return -1;
    }
    sbr_plugin *p = calloc(1, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->desc = desc;
    p->handle = handle;
    FAKE_PUSH(plugins, p);
    size_t n = 0;
    while (desc->config && desc->config[n].name)
        n++;
    p->keys = calloc(n + 1, sizeof *p->keys);
    p->values = calloc(n + 1, sizeof *p->values);
    for (const sbr_config_key *k = desc->config; k && k->name; k++) {
        const char *value = config_lookup(config, k->name);
        p->keys[p->n_config] = strdup(k->name);
        p->values[p->n_config++] = strdup(value ? value : k->default_value ? k->default_value : "");
    }
    for (size_t i = 0; config && config[i] && config[i + 1]; i += 2)
        if (!config_slot(p, config[i])) {
            snprintf(load_error, sizeof load_error, "%s: unknown key %s", name, config[i]);
            return -1;
        }
    p->loading = 1;
    int rc = desc->on_load(p, services());
    p->loading = 0;
    p->loaded = rc == 0;
    if (rc == 0)
        fake_run();
    return rc;
}

void fake_reload(const char *const *config)
{
    for (size_t i = 0; i < n_plugins; i++)
        for (size_t k = 0; k < plugins[i]->n_config; k++) {
            const char *value = config_lookup(config, plugins[i]->keys[k]);
            if (value) {
                free(plugins[i]->values[k]);
                plugins[i]->values[k] = strdup(value);
            }
        }
    sbr_event_reload ev = {.struct_size = sizeof ev};
    fake_notify(SBR_EVENT_RELOAD, &ev);
}

/* Forget everything; with `unload`, the plugins and the loop are shut down
 * first, otherwise (a forked child) they are dropped untouched. */
static void forget(int unload)
{
    for (size_t i = n_plugins; unload && i > 0; i--)
        if (plugins[i - 1]->loaded && plugins[i - 1]->desc->on_unload)
            plugins[i - 1]->desc->on_unload(plugins[i - 1]);
    for (size_t i = 0; i < n_plugins; i++) {
        if (unload)
            dlclose(plugins[i]->handle);
        for (size_t k = 0; k < plugins[i]->n_config; k++) {
            free(plugins[i]->keys[k]);
            free(plugins[i]->values[k]);
        }
        free(plugins[i]->keys);
        free(plugins[i]->values);
        free(plugins[i]);
    }
    for (size_t i = 0; i < n_fake_hooks; i++)
        free(fake_hooks[i].name);
    fake_set_worker_id(NULL);
    n_plugins = n_fake_hooks = n_timers = 0;
    for (size_t i = 0; i < n_queue; i++)
        call_free(queue[i]);
    n_queue = 0;
    for (size_t i = 0; i < n_metrics; i++) {
        free(metrics[i].name);
        free(metrics[i].labels);
    }
    n_metrics = 0;
    for (size_t i = 0; i < n_metric_decls; i++) {
        free(metric_decls[i].name);
        free(metric_decls[i].help);
    }
    n_metric_decls = 0;
    for (size_t i = 0; i < n_strings; i++)
        free(strings[i]);
    n_strings = 0;
    fake_conn_reset();
    fake_http_reset();
    fake_state_reset();
    loop_forget(unload);
    free(log_text);
    log_text = NULL;
    log_len = 0;
    load_error[0] = load_error_key[0] = '\0';
}

void fake_reset(void)
{
    forget(1);
    fake_set_clock(FAKE_START_MS);
}

/* A forked child is another worker: it gets an identity of its own. */
void fake_abandon(void)
{
    char id[32];
    forget(0);
    snprintf(id, sizeof id, "Child%d", (int)getpid());
    fake_set_worker_id(id);
}

/* --- JSON ------------------------------------------------------------------------------ */

const char *fake_get(const char *text, const char *member)
{
    json_t *doc = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    json_t *value = json_object_get(doc, member);
    char *out = NULL;
    if (json_is_string(value))
        out = strdup(json_string_value(value));
    else if (value)
        out = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (out)
        FAKE_PUSH(strings, out);
    return out;
}
