/* The built-in endpoints (private): GET /healthz and GET /metrics. */
#ifndef SBR_CORE_HEALTH_H
#define SBR_CORE_HEALTH_H

#include <event2/http.h>

/* {"status": "ok", "redis": ..., "connections": N, "plugins": [...]} */
void health_reply(struct evhttp_request *req);
/* Prometheus text: core counters, HTTP requests, plugin metrics, gauges. */
void health_metrics_reply(struct evhttp_request *req);

#endif
