/* Counters and gauges for /metrics: the core's fixed counters, HTTP requests
 * by route and status, and metrics plugins create by name. */
#include "metrics.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct core_metrics core_metrics;

/* Plugins could otherwise grow the table without bound through labels. */
#define METRICS_DYNAMIC_MAX 4096

/* A metric name with its type and help text (# HELP, # TYPE). */
struct metric_family {
    const void *owner; /* the plugin that named it first: gone with it */
    char *name;
    char *help;   /* NULL until declared */
    int gauge;
};

/* One series: a family and a label set. */
struct metric {
    const void *owner; /* the plugin that created it: gone with it */
    size_t family;
    char *labels; /* "" when none */
    double value;
};

static struct metric_family *metrics_families;
static size_t metrics_n_families;
static struct metric *metrics_dynamic;
static size_t metrics_n_dynamic;

struct metric_http {
    char *route;
    int status;
    uint64_t count;
};

static struct metric_http *metrics_http;
static size_t metrics_n_http;

/* The core's counters: the name, the old name kept one release as a
 * deprecated alias (NULL: none), the help text and the field. */
static const struct metric_fixed {
    const char *name, *alias, *help;
    size_t offset;
} metrics_fixed[] = {
#define F(field) offsetof(struct core_metrics, field)
    {"superbot_connections_opened_total", NULL, "Engine.IO sessions opened", F(connections_opened)},
    {"superbot_connections_refused_max_total", NULL, "Engine.IO handshakes refused with 503 because max_connections was reached", F(connections_refused_max)},
    {"superbot_socketio_connects_total", NULL, "Socket.IO CONNECTs accepted", F(socketio_connects)},
    {"superbot_socketio_connects_refused_total", NULL, "Socket.IO CONNECTs refused by a plugin", F(socketio_connects_refused)},
    {"superbot_received_events_total", "superbot_events_in_total", "Client events received", F(events_in)},
    {"superbot_sent_events_total", "superbot_events_out_total", "Events queued to sockets, one per recipient", F(events_out)},
    {"superbot_broadcasts_total", NULL, "Room emits encoded (once each, whatever the room's size)", F(broadcasts)},
    {"superbot_sent_bytes_total", "superbot_bytes_out_total", "Bytes sent to clients", F(bytes_out)},
    {"superbot_received_bytes_total", "superbot_bytes_in_total", "Bytes received from clients", F(bytes_in)},
    {"superbot_websocket_writes_total", NULL, "Write calls on WebSocket sockets: one carries every frame a loop turn queued for its socket", F(ws_writes)},
    {"superbot_slow_consumer_disconnects_total", NULL, "Connections dropped for exceeding outbound_buffer_max", F(slow_consumer_disconnects)},
    {"superbot_volatile_dropped_total", NULL, "Volatile events skipped for backed-up sockets", F(volatile_dropped)},
    {"superbot_rate_limited_events_total", NULL, "Client events refused (with an ack) or dropped past the inbound event rate", F(rate_limited_events)},
    {"superbot_rate_limited_disconnects_total", NULL, "Connections ended for sending past twice the inbound event rate", F(rate_limited_disconnects)},
    {"superbot_protocol_errors_total", NULL, "Malformed packets or frames that closed a session", F(protocol_errors)},
    {"superbot_ping_timeouts_total", NULL, "Sessions closed by a missed heartbeat", F(ping_timeouts)},
    {"superbot_bus_undelivered_total", NULL, "Bus messages that could not be published to the other workers", F(bus_undelivered)},
    {"superbot_eio_forwarded_polls_total", NULL, "Polling requests relayed to the worker that owns the session", F(eio_forwarded_polls)},
    {"superbot_eio_forwarded_upgrades_total", NULL, "WebSocket upgrades relayed to the worker that owns the session", F(eio_forwarded_upgrades)},
    {"superbot_eio_forward_failures_total", NULL, "Relayed requests the owning worker did not answer", F(eio_forward_failures)},
    {"superbot_eio_forward_connections_total", NULL, "Connections opened to other workers for relayed polls (kept alive and reused)", F(eio_forward_connections)},
    {"superbot_memory_trims_total", NULL, "Times free heap memory was returned to the system after a burst", F(memory_trims)},
    {"superbot_accept_pauses_total", NULL, "Times accepting paused because the worker ran out of file descriptors", F(accept_pauses)},
    {"superbot_recovery_sessions_saved_total", NULL, "Lost connections whose state was saved for connection state recovery", F(recovery_sessions_saved)},
    {"superbot_recoveries_total", NULL, "Connections recovered (old socket id, rooms and missed events back)", F(recoveries)},
    {"superbot_recovery_misses_total", NULL, "Recoveries asked for that gave a fresh connection (expired, taken, other user, incomplete log)", F(recovery_misses)},
    {"superbot_recovery_replayed_events_total", NULL, "Missed room events sent to recovered connections", F(recovery_replayed)},
    {"superbot_unsequenced_room_events_total", NULL, "Room events delivered without an offset because the sequencer was away", F(unsequenced_room_events)},
#undef F
};

#define METRICS_N_FIXED (sizeof(metrics_fixed) / sizeof(metrics_fixed[0]))

/* Names the core renders itself (here and in health.c): not for plugins. */
static int metrics_reserved(const char *name)
{
    static const char *const core_names[] = {"superbot_http_requests_total", "superbot_connections",
                                             "superbot_connections_max", "superbot_bus_state",
                                             "superbot_plugins_loaded", "superbot_plugin_info"};
    for (size_t i = 0; i < sizeof(core_names) / sizeof(core_names[0]); i++)
        if (strcmp(name, core_names[i]) == 0)
            return 1;
    for (size_t i = 0; i < METRICS_N_FIXED; i++)
        if (strcmp(name, metrics_fixed[i].name) == 0 ||
            (metrics_fixed[i].alias && strcmp(name, metrics_fixed[i].alias) == 0))
            return 1;
    return 0;
}

static int metrics_name_ok(const char *name)
{
    if (!name || !(isalpha((unsigned char)*name) || *name == '_' || *name == ':'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == ':'))
            return 0;
    return strlen(name) <= 200 && !metrics_reserved(name);
}

/* Label text goes between braces verbatim: keep it on one line and inside them. */
static int metrics_labels_ok(const char *labels)
{
    if (strlen(labels) > 512)
        return 0;
    for (const char *p = labels; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '{' || *p == '}')
            return 0;
    return 1;
}

/* The family of name, created (undeclared, of type gauge) when missing;
 * -1 if it cannot be. */
static long metrics_family(const void *owner, const char *name, int gauge)
{
    for (size_t i = 0; i < metrics_n_families; i++)
        if (strcmp(metrics_families[i].name, name) == 0)
            return (long)i;
    if (metrics_n_families >= METRICS_DYNAMIC_MAX)
        return -1;
    struct metric_family *grown = realloc(metrics_families, (metrics_n_families + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    metrics_families = grown;
    char *copy = strdup(name);
    if (!copy)
        return -1;
    metrics_families[metrics_n_families] = (struct metric_family){owner, copy, NULL, gauge};
    return (long)metrics_n_families++;
}

int metrics_declare(const void *owner, const char *name, int gauge, const char *help)
{
    /* HELP text is one line, and without backslashes it needs no escaping. */
    if (!metrics_name_ok(name) || !help || !*help || strlen(help) > 1024 || strpbrk(help, "\r\n\\"))
        return -1;
    long f = metrics_family(owner, name, gauge);
    if (f < 0)
        return -4;
    struct metric_family *fam = &metrics_families[f];
    if (fam->gauge != gauge)
        return -1;
    char *copy = strdup(help);
    if (!copy)
        return -4;
    free(fam->help);
    fam->help = copy;
    return 0;
}

/* An existing series of name and labels of that type, updated: 0; -1 when
 * there is none yet (the first use checks and creates it). */
static int metrics_dynamic_update_existing(const char *name, const char *labels, double v, int gauge)
{
    for (size_t f = 0; name && f < metrics_n_families; f++) {
        if (strcmp(metrics_families[f].name, name) != 0)
            continue;
        for (size_t i = 0; metrics_families[f].gauge == gauge && i < metrics_n_dynamic; i++) {
            struct metric *m = &metrics_dynamic[i];
            if (m->family == f && strcmp(m->labels, labels) == 0) {
                m->value = gauge ? v : m->value + v;
                return 0;
            }
        }
        return -1;
    }
    return -1;
}

static int metrics_dynamic_update(const void *owner, const char *name, const char *labels, double v, int gauge)
{
    if (!labels)
        labels = "";
    /* The name and labels of a series that exists were checked when it was
     * made: counting on every message costs a lookup, not a check. */
    if (metrics_dynamic_update_existing(name, labels, v, gauge) == 0)
        return 0;
    if (!metrics_name_ok(name) || !metrics_labels_ok(labels))
        return -1;
    long f = metrics_family(owner, name, gauge);
    if (f < 0)
        return -4;
    if (metrics_families[f].gauge != gauge)
        return -1;
    for (size_t i = 0; i < metrics_n_dynamic; i++) {
        struct metric *m = &metrics_dynamic[i];
        if (m->family == (size_t)f && strcmp(m->labels, labels) == 0) {
            m->value = gauge ? v : m->value + v;
            return 0;
        }
    }
    if (metrics_n_dynamic >= METRICS_DYNAMIC_MAX)
        return -5;
    struct metric *grown = realloc(metrics_dynamic, (metrics_n_dynamic + 1) * sizeof(*grown));
    if (!grown)
        return -4;
    metrics_dynamic = grown;
    struct metric m = {owner, (size_t)f, strdup(labels), v};
    if (!m.labels)
        return -4;
    metrics_dynamic[metrics_n_dynamic++] = m;
    return 0;
}

int metrics_dynamic_add(const void *owner, const char *name, const char *labels, double delta)
{
    return metrics_dynamic_update(owner, name, labels, delta, 0);
}

int metrics_dynamic_set(const void *owner, const char *name, const char *labels, double value)
{
    return metrics_dynamic_update(owner, name, labels, value, 1);
}

/* Drop family f and renumber the series of the families after it (its own
 * series are gone already). */
static void metrics_family_drop(size_t f)
{
    free(metrics_families[f].name);
    free(metrics_families[f].help);
    memmove(&metrics_families[f], &metrics_families[f + 1], (metrics_n_families - f - 1) * sizeof(*metrics_families));
    metrics_n_families--;
    for (size_t i = 0; i < metrics_n_dynamic; i++)
        if (metrics_dynamic[i].family > f)
            metrics_dynamic[i].family--;
}

void metrics_unregister_all(const void *owner)
{
    /* Its series, and every series of the families it named. */
    size_t kept = 0;
    for (size_t i = 0; i < metrics_n_dynamic; i++) {
        struct metric *m = &metrics_dynamic[i];
        if (m->owner == owner || metrics_families[m->family].owner == owner)
            free(m->labels);
        else
            metrics_dynamic[kept++] = *m;
    }
    metrics_n_dynamic = kept;
    for (size_t f = metrics_n_families; f > 0; f--)
        if (metrics_families[f - 1].owner == owner)
            metrics_family_drop(f - 1);
}

void metrics_http_request(const char *route, int status)
{
    for (size_t i = 0; i < metrics_n_http; i++) {
        if (metrics_http[i].status == status && strcmp(metrics_http[i].route, route) == 0) {
            metrics_http[i].count++;
            return;
        }
    }
    struct metric_http *grown = realloc(metrics_http, (metrics_n_http + 1) * sizeof(*grown));
    if (!grown)
        return;
    metrics_http = grown;
    char *r = strdup(route);
    if (!r)
        return;
    metrics_http[metrics_n_http++] = (struct metric_http){r, status, 1};
}

struct outbuf {
    char *data;
    size_t len, cap;
    int failed;
};

static void out_printf(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct outbuf *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->data + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *p = realloc(o->data, cap);
        if (!p) {
            o->failed = 1;
            return;
        }
        o->data = p;
        o->cap = cap;
    }
}

static void metrics_render_fixed(struct outbuf *o)
{
    for (size_t i = 0; i < METRICS_N_FIXED; i++) {
        const struct metric_fixed *f = &metrics_fixed[i];
        unsigned long long v = *(const uint64_t *)((const char *)&core_metrics + f->offset);
        out_printf(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", f->name, f->help, f->name, f->name, v);
        if (f->alias)
            out_printf(o, "# HELP %s Deprecated alias of %s, removed in the next release\n# TYPE %s counter\n%s %llu\n",
                       f->alias, f->name, f->alias, f->alias, v);
    }
    out_printf(o, "# HELP superbot_http_requests_total HTTP requests by route pattern and status\n"
                  "# TYPE superbot_http_requests_total counter\n");
    for (size_t i = 0; i < metrics_n_http; i++)
        out_printf(o, "superbot_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", metrics_http[i].route,
                   metrics_http[i].status, (unsigned long long)metrics_http[i].count);
}

static int metrics_family_compare(const void *a, const void *b)
{
    const struct metric_family *x = *(const struct metric_family *const *)a;
    const struct metric_family *y = *(const struct metric_family *const *)b;
    return strcmp(x->name, y->name);
}

static int metrics_compare(const void *a, const void *b)
{
    const struct metric *x = *(const struct metric *const *)a, *y = *(const struct metric *const *)b;
    int c = strcmp(metrics_families[x->family].name, metrics_families[y->family].name);
    return c ? c : strcmp(x->labels, y->labels);
}

/* Plugin metrics, by name: each family's HELP and TYPE once, then its series. */
static int metrics_render_dynamic(struct outbuf *o)
{
    const struct metric_family **fams = calloc(metrics_n_families + 1, sizeof(*fams));
    const struct metric **series = calloc(metrics_n_dynamic + 1, sizeof(*series));
    if (!fams || !series) {
        free(fams);
        free(series);
        return -1;
    }
    for (size_t i = 0; i < metrics_n_families; i++)
        fams[i] = &metrics_families[i];
    for (size_t i = 0; i < metrics_n_dynamic; i++)
        series[i] = &metrics_dynamic[i];
    qsort(fams, metrics_n_families, sizeof(*fams), metrics_family_compare);
    qsort(series, metrics_n_dynamic, sizeof(*series), metrics_compare);
    size_t j = 0;
    for (size_t i = 0; i < metrics_n_families; i++) {
        const struct metric_family *f = fams[i];
        out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", f->name,
                   f->help ? f->help : "Metric of a plugin that did not declare it (metric_declare)", f->name,
                   f->gauge ? "gauge" : "counter");
        for (; j < metrics_n_dynamic && &metrics_families[series[j]->family] == f; j++) {
            const struct metric *m = series[j];
            if (*m->labels)
                out_printf(o, "%s{%s} %.17g\n", f->name, m->labels, m->value);
            else
                out_printf(o, "%s %.17g\n", f->name, m->value);
        }
    }
    free(fams);
    free(series);
    return 0;
}

char *metrics_render(void)
{
    struct outbuf o = {malloc(4096), 0, 4096, 0};
    if (!o.data)
        return NULL;
    o.data[0] = '\0';
    metrics_render_fixed(&o);
    if (metrics_render_dynamic(&o) < 0 || o.failed) {
        free(o.data);
        return NULL;
    }
    return o.data;
}

void metrics_free(void)
{
    for (size_t i = 0; i < metrics_n_dynamic; i++)
        free(metrics_dynamic[i].labels);
    free(metrics_dynamic);
    metrics_dynamic = NULL;
    metrics_n_dynamic = 0;
    for (size_t i = 0; i < metrics_n_families; i++) {
        free(metrics_families[i].name);
        free(metrics_families[i].help);
    }
    free(metrics_families);
    metrics_families = NULL;
    metrics_n_families = 0;
    for (size_t i = 0; i < metrics_n_http; i++)
        free(metrics_http[i].route);
    free(metrics_http);
    metrics_http = NULL;
    metrics_n_http = 0;
}
