/* The demo plugin (private): a small chat page at /demo/ driven by the
 * stock socket.io-client, and, when enabled, a sign-in-by-name route that
 * answers realtime tokens for a fixed demo server. */
#ifndef SBR_DEMO_H
#define SBR_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <superbot-realtime/plugin.h>

#define DEMO_ID_MAX 64        /* channel and server ids */
#define DEMO_USER_MAX 32      /* user names accepted by the identity route */
#define DEMO_CHANNELS_MAX 16
#define DEMO_ASSET_MAX_BYTES (4u << 20)

/* One file of the page, read into memory at load. */
struct demo_asset {
    const char *name;         /* as requested: /demo/<name> */
    const char *content_type;
    int required;             /* the page is useless without it */
    char *data;               /* NULL when missing */
    size_t len;
};

struct demo_channel {
    char id[DEMO_ID_MAX + 1];
    int64_t slow_mode;
};

struct demo {
    sbr_plugin *self;
    const sbr_api *api;
    char *assets_dir;
    struct demo_asset *assets;
    size_t n_assets;
    int identity_route;
    char *secret;
    size_t secret_len;
    char *audience;
    char *issuer;
    int64_t ttl_seconds;
    char server_id[DEMO_ID_MAX + 1];
    struct demo_channel channels[DEMO_CHANNELS_MAX];
    size_t n_channels;
};

/* 1 if s is 1..max bytes of [A-Za-z0-9_.-]. */
int demo_id_valid(const char *s, size_t max);

/* Parse "general, slow:5" into d->channels; 0, or -1 with why set. */
int demo_channels_parse(struct demo *d, const char *list, char *why, size_t whylen);

/* Write every demo channel's registry record ("channels:<id>"); done(ud)
 * runs once, later, when all writes are answered (whatever their outcome). */
void demo_channels_register(struct demo *d, void (*done)(void *ud), void *ud);

/* Read the page's files from d->assets_dir; 0, or -1 with set_error. */
int demo_assets_load(struct demo *d);
void demo_assets_free(struct demo *d);
/* GET /demo and GET /demo/{file}. */
void demo_asset_route(sbr_http_request *req, void *userdata);

/* GET /demo/api/info and POST /demo/api/login. */
void demo_info_route(sbr_http_request *req, void *userdata);
void demo_login_route(sbr_http_request *req, void *userdata);

#endif
