#include "fake_host.h"

#include <dlfcn.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define FAKE_HOST_MAX_DELIVERED 256
#define FAKE_HOST_MAX_TIMERS 1024

struct fake_timer {
    sbr_timer_id id;
    struct event *ev;
    int repeat;
    void (*fn)(void *userdata);
    void *userdata;
};

struct fake_delivery {
    char *topic;
    char *data;
    size_t len;
};

static struct {
    struct event_base *base;
    void *dl;
    const sbr_plugin_descriptor *desc;
    const char *const *config;
    sbr_api api;
    const sbr_bus_provider *provider;
    void *ctx;
    int64_t clock_offset;
    uint64_t frozen_at; /* 0: the clock runs */
    int state;
    int reports;
    char detail[512];
    char error[512];
    char *log;
    size_t log_len;
    struct fake_delivery delivered[FAKE_HOST_MAX_DELIVERED];
    size_t ndelivered;
    char gauge_name[128];
    double gauge;
    struct fake_timer *timers[FAKE_HOST_MAX_TIMERS];
    sbr_timer_id next_timer;
} fh;

/* Stands for the core's record of the plugin; never dereferenced. */
static int fake_plugin_record;
#define FAKE_SELF ((sbr_plugin *)&fake_plugin_record)

const char *fake_host_plugin_path(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/plugins/%s.so", SBR_TEST_BUILD_DIR, name);
    return path;
}

static void fake_log(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    char *grown = realloc(fh.log, fh.log_len + len + 2);
    if (!grown)
        return;
    fh.log = grown;
    memcpy(fh.log + fh.log_len, line, len);
    fh.log_len += len;
    fh.log[fh.log_len++] = '\n';
    fh.log[fh.log_len] = '\0';
    if (getenv("SBR_TEST_VERBOSE"))
        fprintf(stderr, "[plugin %d] %s\n", (int)level, line);
}

static void fake_set_error(sbr_plugin *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fh.error, sizeof(fh.error), fmt, ap);
    va_end(ap);
}

static const sbr_config_key *fake_declared(const char *key)
{
    for (const sbr_config_key *k = fh.desc->config; k && k->name; k++)
        if (strcmp(k->name, key) == 0)
            return k;
    return NULL;
}

static const char *fake_config_string(sbr_plugin *self, const char *key)
{
    for (const char *const *c = fh.config; c && c[0]; c += 2)
        if (strcmp(c[0], key) == 0)
            return c[1];
    const sbr_config_key *k = fake_declared(key);
    return k && k->default_value ? k->default_value : "";
}

static int64_t fake_config_int(sbr_plugin *self, const char *key)
{
    return strtoll(fake_config_string(self, key), NULL, 10);
}

static int fake_config_bool(sbr_plugin *self, const char *key)
{
    const char *v = fake_config_string(self, key);
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0;
}

static double fake_config_double(sbr_plugin *self, const char *key)
{
    return strtod(fake_config_string(self, key), NULL);
}

static uint64_t fake_now_ms(void)
{
    if (fh.frozen_at)
        return (uint64_t)((int64_t)fh.frozen_at + fh.clock_offset);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 + fh.clock_offset);
}

static void fake_timer_drop(struct fake_timer *t)
{
    for (size_t i = 0; i < FAKE_HOST_MAX_TIMERS; i++)
        if (fh.timers[i] == t)
            fh.timers[i] = NULL;
    event_free(t->ev);
    free(t);
}

static void fake_timer_fire(evutil_socket_t fd, short what, void *arg)
{
    struct fake_timer *t = arg;
    void (*fn)(void *) = t->fn;
    void *ud = t->userdata;
    if (!t->repeat)
        fake_timer_drop(t);
    fn(ud);
}

static sbr_timer_id fake_timer_start(sbr_plugin *self, uint64_t delay_ms, int repeat, void (*fn)(void *), void *ud)
{
    size_t slot = 0;
    while (slot < FAKE_HOST_MAX_TIMERS && fh.timers[slot])
        slot++;
    if (slot == FAKE_HOST_MAX_TIMERS)
        return 0;
    struct fake_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return 0;
    t->id = ++fh.next_timer;
    t->repeat = repeat;
    t->fn = fn;
    t->userdata = ud;
    t->ev = event_new(fh.base, -1, repeat ? EV_PERSIST : 0, fake_timer_fire, t);
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000};
    event_add(t->ev, &tv);
    fh.timers[slot] = t;
    return t->id;
}

static void fake_timer_stop(sbr_plugin *self, sbr_timer_id id)
{
    for (size_t i = 0; i < FAKE_HOST_MAX_TIMERS; i++)
        if (fh.timers[i] && fh.timers[i]->id == id) {
            fake_timer_drop(fh.timers[i]);
            return;
        }
}

static int fake_bus_provide(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx)
{
    if (fh.provider)
        return SBR_ERR_STATE;
    fh.provider = provider;
    fh.ctx = ctx;
    return SBR_OK;
}

static void fake_bus_deliver(const char *topic, const char *data, size_t len)
{
    if (fh.ndelivered == FAKE_HOST_MAX_DELIVERED)
        return;
    struct fake_delivery *d = &fh.delivered[fh.ndelivered++];
    d->topic = strdup(topic);
    d->data = malloc(len + 1);
    memcpy(d->data, data, len);
    d->data[len] = '\0';
    d->len = len;
}

static void fake_bus_set_state(enum sbr_bus_state state, const char *detail)
{
    fh.state = (int)state;
    fh.reports++;
    snprintf(fh.detail, sizeof(fh.detail), "%s", detail ? detail : "");
    fake_log(FAKE_SELF, SBR_LOG_INFO, "bus state %d: %s", (int)state, fh.detail);
}

static void *fake_event_base(void)
{
    return fh.base;
}

static int fake_metric_set(sbr_plugin *self, const char *name, const char *labels, double value)
{
    snprintf(fh.gauge_name, sizeof(fh.gauge_name), "%s", name);
    fh.gauge = value;
    return SBR_OK;
}

static int fake_metric_add(sbr_plugin *self, const char *name, const char *labels, double delta)
{
    return SBR_OK;
}

int fake_host_load(const char *path, const char *const *config)
{
    memset(&fh, 0, sizeof(fh));
    fh.state = -1;
    fh.base = event_base_new();
    fh.config = config;
    fh.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!fh.dl) {
        snprintf(fh.error, sizeof(fh.error), "dlopen: %s", dlerror());
        return -1;
    }
    sbr_plugin_entry_fn entry = (sbr_plugin_entry_fn)dlsym(fh.dl, SBR_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(fh.error, sizeof(fh.error), "no %s", SBR_ENTRY_SYMBOL);
        return -1;
    }
    fh.desc = entry();
    if (fh.desc->abi_version != SBR_ABI_VERSION)
        return -1;
    fh.api.abi_version = SBR_ABI_VERSION;
    fh.api.struct_size = sizeof(sbr_api);
    fh.api.log = fake_log;
    fh.api.set_error = fake_set_error;
    fh.api.config_string = fake_config_string;
    fh.api.config_int = fake_config_int;
    fh.api.config_bool = fake_config_bool;
    fh.api.config_double = fake_config_double;
    fh.api.timer_start = fake_timer_start;
    fh.api.timer_stop = fake_timer_stop;
    fh.api.now_ms = fake_now_ms;
    fh.api.bus_provide = fake_bus_provide;
    fh.api.bus_deliver = fake_bus_deliver;
    fh.api.bus_set_state = fake_bus_set_state;
    fh.api.event_base = fake_event_base;
    fh.api.metric_set = fake_metric_set;
    fh.api.metric_add = fake_metric_add;
    return fh.desc->on_load(FAKE_SELF, &fh.api);
}

void fake_host_unload(void)
{
    if (fh.desc && fh.provider)
        fh.desc->on_unload(FAKE_SELF);
    for (size_t i = 0; i < FAKE_HOST_MAX_TIMERS; i++)
        if (fh.timers[i])
            fake_timer_drop(fh.timers[i]);
    for (size_t i = 0; i < fh.ndelivered; i++) {
        free(fh.delivered[i].topic);
        free(fh.delivered[i].data);
    }
    if (fh.dl)
        dlclose(fh.dl);
    if (fh.base)
        event_base_free(fh.base);
    free(fh.log);
    memset(&fh, 0, sizeof(fh));
}

void fake_host_abandon(void)
{
    memset(&fh, 0, sizeof(fh));
}

const sbr_bus_provider *fake_host_provider(void) { return fh.provider; }
void *fake_host_ctx(void) { return fh.ctx; }
void fake_host_advance(int64_t ms) { fh.clock_offset += ms; }

void fake_host_freeze_clock(void)
{
    fh.frozen_at = fake_now_ms();
    fh.clock_offset = 0;
}

static int fake_flag_set(void *ud)
{
    return *(const volatile int *)ud != 0;
}

int fake_host_run_until(const volatile int *flag, int timeout_ms)
{
    return fake_host_run_until_fn(fake_flag_set, (void *)(uintptr_t)flag, timeout_ms);
}

static uint64_t fake_real_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
}

static void fake_wake(evutil_socket_t fd, short what, void *arg)
{
}

int fake_host_run_until_fn(int (*cond)(void *ud), void *ud, int timeout_ms)
{
    uint64_t end = fake_real_ms() + (uint64_t)timeout_ms;
    /* A short tick so the condition is checked even while nothing happens. */
    struct event *tick = event_new(fh.base, -1, EV_PERSIST, fake_wake, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    while (!cond(ud) && fake_real_ms() < end)
        event_base_loop(fh.base, EVLOOP_ONCE);
    event_free(tick);
    return cond(ud);
}

static int fake_never(void *ud)
{
    return 0;
}

void fake_host_run_for(int ms)
{
    fake_host_run_until_fn(fake_never, NULL, ms);
}

int fake_host_bus_state(void) { return fh.state; }
const char *fake_host_bus_detail(void) { return fh.detail; }
int fake_host_bus_reports(void) { return fh.reports; }
const char *fake_host_error(void) { return fh.error; }
const char *fake_host_log(void) { return fh.log ? fh.log : ""; }
size_t fake_host_delivered(void) { return fh.ndelivered; }
const char *fake_host_delivered_topic(size_t i) { return i < fh.ndelivered ? fh.delivered[i].topic : NULL; }

const char *fake_host_delivered_data(size_t i, size_t *len)
{
    if (i >= fh.ndelivered)
        return NULL;
    *len = fh.delivered[i].len;
    return fh.delivered[i].data;
}

double fake_host_gauge(const char *name)
{
    return strcmp(fh.gauge_name, name) == 0 ? fh.gauge : -1;
}

int fake_host_active_timers(void)
{
    int n = 0;
    for (size_t i = 0; i < FAKE_HOST_MAX_TIMERS; i++)
        n += fh.timers[i] != NULL;
    return n;
}
