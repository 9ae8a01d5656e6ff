/* GET /healthz and GET /metrics: what operators and load balancers read. */
#include "health.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "metrics.h"
#include "net/http.h"
#include "plugin/plugin.h"
#include "settings.h"
#include "sio/sio.h"

/* {"status": "ok", "bus": ..., "redis": (the same, for existing probes),
 * "connections": N, "plugins": [...]}, and what the bus provider adds
 * (bus_health: its form and links), without overriding those. */
static void health_reply(struct evhttp_request *req, void *arg)
{
    (void)arg;
    json_t *plugins = json_array();
    for (size_t i = 0; i < registry_count(); i++)
        json_array_append_new(plugins, json_string(registry_at(i)->name));
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "status", "ok", "bus", bus_state_name(), "redis",
                          bus_state_name(), "connections", (json_int_t)sio_connection_count(), "plugins", plugins);
    json_t *extra = bus_health() ? json_loads(bus_health(), 0, NULL) : NULL;
    if (o && json_is_object(extra))
        json_object_update_missing(o, extra);
    json_decref(extra);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text)
        http_send(req, 200, "application/json", text, strlen(text), "/healthz");
    else
        http_send_error(req, 500, "internal_error", "/healthz");
    free(text);
    json_decref(o);
}

static void health_label_escape(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (; in && *in && o + 3 < cap; in++) {
        if (*in == '"' || *in == '\\') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

/* Prometheus text: core counters, HTTP requests, plugin metrics, gauges. */
static void health_metrics_reply(struct evhttp_request *req, void *arg)
{
    (void)arg;
    char *text = metrics_render();
    struct evbuffer *buf = evbuffer_new();
    if (!text || !buf) {
        free(text);
        if (buf)
            evbuffer_free(buf);
        http_send_error(req, 500, "internal_error", "/metrics");
        return;
    }
    evbuffer_add(buf, text, strlen(text));
    free(text);
    evbuffer_add_printf(buf,
                        "# HELP superbot_connections Live Engine.IO sessions on this worker\n"
                        "# TYPE superbot_connections gauge\nsuperbot_connections %zu\n"
                        "# HELP superbot_connections_max The max_connections setting of this worker\n"
                        "# TYPE superbot_connections_max gauge\nsuperbot_connections_max %llu\n"
                        "# HELP superbot_bus_state State-and-bus backend: 0 disabled (in-process), 1 connected, 2 down\n"
                        "# TYPE superbot_bus_state gauge\nsuperbot_bus_state %d\n"
                        "# HELP superbot_plugins_loaded Plugins loaded\n"
                        "# TYPE superbot_plugins_loaded gauge\nsuperbot_plugins_loaded %zu\n"
                        "# HELP superbot_plugin_info One series per loaded plugin, with its name and version\n"
                        "# TYPE superbot_plugin_info gauge\n",
                        sio_connection_count(), (unsigned long long)settings_get()->max_connections,
                        bus_state_get(), registry_count());
    for (size_t i = 0; i < registry_count(); i++) {
        struct sbr_plugin *p = registry_at(i);
        char name[256], version[256];
        health_label_escape(name, sizeof(name), p->name);
        health_label_escape(version, sizeof(version), p->desc->version);
        evbuffer_add_printf(buf, "superbot_plugin_info{name=\"%s\",version=\"%s\"} 1\n", name, version);
    }
    size_t len = evbuffer_get_length(buf);
    char *body = malloc(len + 1);
    if (body) {
        evbuffer_copyout(buf, body, len);
        http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, "/metrics");
        free(body);
    } else {
        http_send_error(req, 500, "internal_error", "/metrics");
    }
    evbuffer_free(buf);
}

int health_register(void)
{
    if (http_builtin_route("/healthz", health_reply, NULL) != 0 ||
        http_builtin_route("/metrics", health_metrics_reply, NULL) != 0)
        return -1;
    return 0;
}
