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

struct metric {
    char *name;
    char *labels; /* "" when none */
    double value;
    int gauge;
};

static struct metric *metrics_dynamic;
static size_t metrics_n_dynamic;

struct metric_http {
    char *route;
    int status;
    uint64_t count;
};

static struct metric_http *metrics_http;
static size_t metrics_n_http;

static int metrics_name_ok(const char *name)
{
    if (!name || !(isalpha((unsigned char)*name) || *name == '_' || *name == ':'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == ':'))
            return 0;
    return strlen(name) <= 200;
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

static int metrics_dynamic_update(const char *name, const char *labels, double v, int gauge)
{
    if (!labels)
        labels = "";
    if (!metrics_name_ok(name) || !metrics_labels_ok(labels))
        return -1;
    for (size_t i = 0; i < metrics_n_dynamic; i++) {
        struct metric *m = &metrics_dynamic[i];
        if (strcmp(m->name, name) == 0 && strcmp(m->labels, labels) == 0) {
            if (m->gauge != gauge)
                return -1;
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
    struct metric m = {strdup(name), strdup(labels), v, gauge};
    if (!m.name || !m.labels) {
        free(m.name);
        free(m.labels);
        return -4;
    }
    metrics_dynamic[metrics_n_dynamic++] = m;
    return 0;
}

int metrics_dynamic_add(const char *name, const char *labels, double delta)
{
    return metrics_dynamic_update(name, labels, delta, 0);
}

int metrics_dynamic_set(const char *name, const char *labels, double value)
{
    return metrics_dynamic_update(name, labels, value, 1);
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

static int metrics_compare(const void *a, const void *b)
{
    const struct metric *x = *(const struct metric *const *)a, *y = *(const struct metric *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

char *metrics_render(void)
{
    struct outbuf o = {malloc(4096), 0, 4096, 0};
    if (!o.data)
        return NULL;
    o.data[0] = '\0';
    static const struct {
        const char *name, *help;
        size_t offset;
    } fixed[] = {
#define M(field, help) {"superbot_" #field "_total", help, offsetof(struct core_metrics, field)}
        M(connections_opened, "Engine.IO sessions opened"),
        M(connections_refused_max, "Connections refused because max_connections was reached"),
        M(socketio_connects, "Socket.IO CONNECTs accepted"),
        M(socketio_connects_refused, "Socket.IO CONNECTs refused"),
        M(events_in, "Client events received"),
        M(events_out, "Events queued to sockets"),
        M(broadcasts, "Room emits encoded"),
        M(bytes_out, "Bytes sent to clients"),
        M(bytes_in, "Bytes received from clients"),
        M(slow_consumer_disconnects, "Connections dropped for exceeding the outbound buffer"),
        M(volatile_dropped, "Volatile events skipped for backed-up sockets"),
        M(rate_limited_events, "Client events refused (with an ack) or dropped past the inbound event rate"),
        M(rate_limited_disconnects, "Connections ended for sending past twice the inbound event rate"),
        M(protocol_errors, "Malformed packets or frames that closed a session"),
        M(ping_timeouts, "Sessions closed by a ping timeout"),
        M(bus_undelivered, "Bus messages that could not be published"),
        M(eio_forwarded_polls, "Polling requests relayed to the worker that owns the session"),
        M(eio_forwarded_upgrades, "WebSocket upgrades relayed to the worker that owns the session"),
        M(eio_forward_failures, "Relayed requests the owning worker did not answer"),
        M(eio_forward_connections, "Connections opened to other workers for relayed polls (kept alive and reused)"),
        M(memory_trims, "Times free heap memory was returned to the system after a burst"),
        M(accept_pauses, "Times accepting paused because the worker ran out of file descriptors"),
#undef M
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        uint64_t v = *(const uint64_t *)((const char *)&core_metrics + fixed[i].offset);
        out_printf(&o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", fixed[i].name, fixed[i].help, fixed[i].name,
                   fixed[i].name, (unsigned long long)v);
    }
    out_printf(&o, "# HELP superbot_http_requests_total HTTP requests by route and status\n"
                   "# TYPE superbot_http_requests_total counter\n");
    for (size_t i = 0; i < metrics_n_http; i++)
        out_printf(&o, "superbot_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", metrics_http[i].route,
                   metrics_http[i].status, (unsigned long long)metrics_http[i].count);
    /* Samples of one name must be adjacent, under one TYPE line. */
    const struct metric **sorted = calloc(metrics_n_dynamic + 1, sizeof(*sorted));
    if (!sorted) {
        free(o.data);
        return NULL;
    }
    for (size_t i = 0; i < metrics_n_dynamic; i++)
        sorted[i] = &metrics_dynamic[i];
    qsort(sorted, metrics_n_dynamic, sizeof(*sorted), metrics_compare);
    for (size_t i = 0; i < metrics_n_dynamic; i++) {
        const struct metric *m = sorted[i];
        if (i == 0 || strcmp(sorted[i - 1]->name, m->name) != 0)
            out_printf(&o, "# TYPE %s %s\n", m->name, m->gauge ? "gauge" : "counter");
        if (*m->labels)
            out_printf(&o, "%s{%s} %.17g\n", m->name, m->labels, m->value);
        else
            out_printf(&o, "%s %.17g\n", m->name, m->value);
    }
    free(sorted);
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    return o.data;
}

void metrics_free(void)
{
    for (size_t i = 0; i < metrics_n_dynamic; i++) {
        free(metrics_dynamic[i].name);
        free(metrics_dynamic[i].labels);
    }
    free(metrics_dynamic);
    metrics_dynamic = NULL;
    metrics_n_dynamic = 0;
    for (size_t i = 0; i < metrics_n_http; i++)
        free(metrics_http[i].route);
    free(metrics_http);
    metrics_http = NULL;
    metrics_n_http = 0;
}
