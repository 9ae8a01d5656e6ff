/* Metrics (layer 0, private): process-wide counters shown on /metrics,
 * HTTP requests by route, and the plugins' named series.  Plain integers:
 * the core is single-threaded.  Calls nothing. */
#ifndef SBR_CORE_METRICS_H
#define SBR_CORE_METRICS_H

#include <stdint.h>
#include <stddef.h>

struct core_metrics {
    uint64_t connections_opened;      /* Engine.IO sessions opened */
    uint64_t connections_refused_max; /* refused: max_connections reached */
    uint64_t socketio_connects;       /* Socket.IO CONNECT accepted */
    uint64_t socketio_connects_refused;
    uint64_t events_in;               /* client events received */
    uint64_t events_out;              /* events queued to sockets (one per socket) */
    uint64_t broadcasts;              /* room emits encoded */
    uint64_t bytes_out;
    uint64_t bytes_in;
    uint64_t ws_writes;               /* write calls on WebSocket sockets (one per socket per turn, mostly) */
    uint64_t slow_consumer_disconnects; /* outbound cap exceeded */
    uint64_t volatile_dropped;        /* volatile events skipped for backed-up sockets */
    uint64_t rate_limited_events;     /* events refused or dropped past the inbound rate */
    uint64_t rate_limited_disconnects;/* inbound event rate exceeded twice over: ended */
    uint64_t protocol_errors;         /* malformed packets/frames that closed a session */
    uint64_t ping_timeouts;
    uint64_t bus_undelivered;         /* bus messages that could not be published */
    uint64_t eio_forwarded_polls;     /* polling requests relayed to the session's worker */
    uint64_t eio_forwarded_upgrades;  /* WebSocket upgrades relayed to the session's worker */
    uint64_t eio_forward_failures;    /* relays the session's worker did not answer */
    uint64_t eio_forward_connections; /* connections opened to other workers for relayed polls */
    uint64_t memory_trims;            /* free heap memory returned after a burst */
    uint64_t accept_pauses;           /* accepting paused: out of file descriptors */
    uint64_t recovery_sessions_saved; /* lost connections whose state was saved for recovery */
    uint64_t recoveries;              /* connections recovered */
    uint64_t recovery_misses;         /* recoveries asked that gave a fresh connection */
    uint64_t recovery_replayed;       /* missed events sent to recovered connections */
    uint64_t unsequenced_room_events; /* room events delivered without an offset (sequencer away) */
};

extern struct core_metrics core_metrics;

/* Declare a plugin metric's type and one-line help text (api->metric_declare):
 * 0, or -1 for a bad or reserved name, a bad help text or a type that
 * differs from the metric's first use; -4 out of memory. */
int metrics_declare(const void *owner, const char *name, int gauge, const char *help);
/* A counter or gauge with a name and label text, for plugins
 * (api->metric_add/set); the first use of a name/labels pair creates it,
 * owned by `owner` (opaque: the plugin record), as is a name first used or
 * declared by it. */
int metrics_dynamic_add(const void *owner, const char *name, const char *labels, double delta);
int metrics_dynamic_set(const void *owner, const char *name, const char *labels, double value);
/* Drop the series owner created and the names it introduced, with their
 * series (the plugin is unloaded). */
void metrics_unregister_all(const void *owner);
/* HTTP requests by route pattern and status. */
void metrics_http_request(const char *route, int status);
/* Render everything as Prometheus text into a new malloc'd string. */
char *metrics_render(void);
/* Free the dynamic metrics (at exit). */
void metrics_free(void);

#endif
