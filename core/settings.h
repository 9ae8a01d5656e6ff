/* Core settings (layer 0, private): the validated values of the core's
 * conf.d file, read by every layer. */
#ifndef SBR_CORE_SETTINGS_H
#define SBR_CORE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#define SETTINGS_MAX_LISTEN 8
#define SETTINGS_PATH_MAX 128

struct core_settings {
    char *listen[SETTINGS_MAX_LISTEN]; /* "host:port" each; from `listen` (comma-separated) */
    size_t n_listen;
    int reuse_port;                    /* SO_REUSEPORT on the listeners */
    char *plugin_dir;                  /* absolute; default: <binary dir>/plugins, or the install dir */
    int log_level;                     /* enum sbr_log_level */
    int log_format;                    /* LOG_FORMAT_TEXT or LOG_FORMAT_JSON */
    uint64_t max_connections;          /* Socket.IO connections (all transports) */
    uint64_t max_payload;              /* Engine.IO maxPayload, bytes (default 1000000) */
    uint64_t ping_interval_ms;         /* 25000 */
    uint64_t ping_timeout_ms;          /* 20000 */
    uint64_t connect_timeout_ms;       /* time from Engine.IO open to Socket.IO CONNECT (45000) */
    char *cors_origins;                /* "*" or a comma-separated list of origins; "" = no CORS */
    uint64_t outbound_buffer_max;      /* bytes queued to one connection before it is dropped */
    uint64_t max_header_size;          /* HTTP request headers, bytes (431 past it) */
    uint64_t max_body_size;            /* HTTP request bodies other than polling, bytes (413) */
    uint64_t header_timeout_ms;        /* a request's headers must arrive within this */
    uint64_t inbound_rate;             /* client events per inbound_rate_window_ms before a disconnect; 0 = off */
    uint64_t inbound_rate_window_ms;
    uint64_t shutdown_timeout_ms;      /* SIGTERM: hard exit after this */
    char *socketio_path;               /* `path`: where Engine.IO is served, "/socket.io/" */
    uint64_t recovery_window_ms;       /* connection state recovery: 0 = off (needs a restart) */
    uint64_t recovery_max_events;      /* events logged per room for recovery */
};

/* The settings in force; valid after start-up, replaced on reload. */
const struct core_settings *settings_get(void);

#endif
