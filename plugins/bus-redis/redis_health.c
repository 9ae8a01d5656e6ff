/* What operators read of the Redis links: on /metrics, the form in use
 * (superbot_bus_redis_mode), each link's state (superbot_bus_redis_link_up
 * per node and role: the masters, and the sentinel watched for failovers),
 * the failovers followed, the redirections followed and the slot map
 * refreshes; on /healthz (api->bus_set_health), the same form and links:
 * {"bus_mode": "cluster", "bus_nodes": [{"node": "10.0.0.1:7000",
 * "role": "master", "up": true}, ...]}. */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sbr_metric_def redis_health_metrics[] = {
    {"superbot_bus_redis_mode", SBR_METRIC_GAUGE,
     "1 for the form of REALTIME_REDIS_URL in use: single, sentinel or cluster", NULL},
    {"superbot_bus_redis_link_up", SBR_METRIC_GAUGE,
     "1 while the links to a Redis node are up and ready (role master), or the watch of a sentinel (role sentinel)",
     NULL},
    {"superbot_bus_redis_masters", SBR_METRIC_GAUGE, "Redis masters in use: 1, or the masters of the cluster", NULL},
    {"superbot_bus_redis_failovers_total", SBR_METRIC_COUNTER,
     "Master switches announced by the sentinels (+switch-master) and followed", NULL},
    {"superbot_bus_redis_redirects_total", SBR_METRIC_COUNTER,
     "Cluster redirections followed (kind moved, ask, tryagain, or unserved: a node without the slot)",
     (const char *const[]){"kind=\"moved\"", "kind=\"ask\"", "kind=\"tryagain\"", "kind=\"unserved\"", NULL}},
    {"superbot_bus_redis_slot_map_refreshes_total", SBR_METRIC_COUNTER, "Cluster slot maps read (CLUSTER SLOTS)",
     NULL},
    {NULL, 0, NULL, NULL},
};

int redis_health_init(struct bus_redis *br)
{
    if (sbr_metrics_declare(br->api, br->self, redis_health_metrics) != SBR_OK)
        return -1;
    if (!br->api->metric_set)
        return 0;
    char labels[40];
    snprintf(labels, sizeof(labels), "mode=\"%s\"", redis_mode_name(br->mode));
    br->api->metric_set(br->self, "superbot_bus_redis_mode", labels, br->url_text[0] ? 1 : 0);
    return 0;
}

void redis_health_count(struct bus_redis *br, const char *metric, const char *labels)
{
    if (br->api->metric_add)
        br->api->metric_add(br->self, metric, labels, 1);
}

static void redis_health_link(struct bus_redis *br, const char *name, const char *role, int up)
{
    char labels[REDIS_HOST_MAX + 64];
    snprintf(labels, sizeof(labels), "node=\"%s\",role=\"%s\"", name, role);
    br->api->metric_set(br->self, "superbot_bus_redis_link_up", labels, up);
}

/* Append text as a JSON string to out (a node's name: quotes, backslashes
 * and control characters escaped); -1 when it does not fit. */
static int redis_health_quote(const char *text, char *out, size_t size, size_t *at)
{
    size_t o = *at;
    if (o + 2 > size)
        return -1;
    out[o++] = '"';
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (o + 8 > size)
            return -1;
        if (*c == '"' || *c == '\\')
            o += (size_t)snprintf(out + o, size - o, "\\%c", *c);
        else if (*c < 0x20)
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", *c);
        else
            out[o++] = (char)*c;
    }
    out[o++] = '"';
    out[o] = '\0';
    *at = o;
    return 0;
}

static int redis_health_node(const char *name, const char *role, int up, char *out,
                             size_t size, size_t *at)
{
    int n = snprintf(out + *at, size - *at, "%s{\"node\":", out[*at - 1] == '[' ? "" : ",");
    if (n < 0 || (size_t)n >= size - *at)
        return -1;
    *at += (size_t)n;
    if (redis_health_quote(name, out, size, at) != 0)
        return -1;
    n = snprintf(out + *at, size - *at, ",\"role\":\"%s\",\"up\":%s}", role, up ? "true" : "false");
    if (n < 0 || (size_t)n >= size - *at)
        return -1;
    *at += (size_t)n;
    return 0;
}

/* The form and every link, for /healthz. */
static void redis_health_json(struct bus_redis *br)
{
    if (!SBR_API_HAS(br->api, bus_set_health) || !br->url_text[0])
        return;
    size_t size = 64 + (size_t)br->n_nodes * (REDIS_HOST_MAX + 64) + REDIS_HOST_MAX + 64, at;
    char *out = malloc(size);
    if (!out)
        return;
    at = (size_t)snprintf(out, size, "{\"bus_mode\":\"%s\",\"bus_nodes\":[", redis_mode_name(br->mode));
    int rc = 0;
    for (int i = 0; i < br->n_nodes && rc == 0; i++)
        if (br->nodes[i]->in_use)
            rc = redis_health_node(br->nodes[i]->name, "master", br->nodes[i]->ready, out, size, &at);
    if (rc == 0 && br->mode == REDIS_MODE_SENTINEL && br->url.n_hosts) {
        const struct redis_endpoint *s = &br->url.hosts[br->sentinel_watching % br->url.n_hosts];
        char name[REDIS_HOST_MAX + 8];
        snprintf(name, sizeof(name), strchr(s->host, ':') ? "[%s]:%d" : "%s:%d", s->host, s->port);
        rc = redis_health_node(name, "sentinel", br->sentinel_watch_up, out, size, &at);
    }
    if (rc == 0 && at + 3 <= size) {
        memcpy(out + at, "]}", 3);
        br->api->bus_set_health(br->self, out);
    }
    free(out);
}

void redis_health_update(struct bus_redis *br)
{
    if (!br->api->metric_set || br->unloading)
        return;
    int masters = 0;
    for (int i = 0; i < br->n_nodes; i++) {
        struct redis_node *node = br->nodes[i];
        int up = node->in_use && node->ready;
        masters += node->in_use;
        /* A series from the first time the node is in use (-1: never). */
        if (up != node->metric_up && (node->in_use || node->metric_up >= 0)) {
            redis_health_link(br, node->name, "master", up);
            node->metric_up = up;
        }
    }
    br->api->metric_set(br->self, "superbot_bus_redis_masters", NULL, masters);
    for (size_t i = 0; br->mode == REDIS_MODE_SENTINEL && i < br->url.n_hosts; i++) {
        char name[REDIS_HOST_MAX + 8];
        const struct redis_endpoint *s = &br->url.hosts[i];
        snprintf(name, sizeof(name), strchr(s->host, ':') ? "[%s]:%d" : "%s:%d", s->host, s->port);
        redis_health_link(br, name, "sentinel", br->sentinel_watch_up && i == br->sentinel_watching);
    }
    redis_health_json(br);
}
