/* The built-in endpoints (layer 7, private): GET /healthz and GET /metrics,
 * registered with the public HTTP server by the daemon.  Calls what it
 * reports on: the bus state, the connection count, the plugin registry,
 * the metrics. */
#ifndef SBR_CORE_HEALTH_H
#define SBR_CORE_HEALTH_H

/* Register /healthz and /metrics as built-in routes; 0 or -1. */
int health_register(void);

#endif
