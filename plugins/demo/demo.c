/*
 * demo: a small chat page at /demo/ for trying the gateway in a browser.
 *
 * The page (plain HTML, JS and CSS, with the stock socket.io-client bundled
 * from npm at build time) signs in, joins a channel, and shows who is
 * online, who is typing, the messages and the slow-mode countdown.  Its
 * files are read at load from `assets_dir` (default: the demo/ folder next
 * to demo.so).
 *
 * Signing in needs a realtime token.  With `identity_route = true` the
 * plugin answers POST /demo/api/login {"user": "alice"} with a token for
 * that name and the demo server, signed with the realtime secret: anyone
 * can be anyone, so it is off by default and never for a real deployment.
 * The demo channels are written to the channel registry at load and again
 * at each sign-in, so join_channel finds them.
 *
 *     # conf.d/80-demo.conf
 *     plugin = demo
 *     identity_route = true
 *     secret = ${REALTIME_JWT_SECRET:-${SECRET_KEY:-}}
 *     channels = general, slow:5
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "demo.h"

static const sbr_config_key demo_keys[] = {
    {"assets_dir", SBR_CONF_STRING, "", 0, 0, 0,
     "where the page's files are; empty: the demo/ folder next to demo.so"},
    {"identity_route", SBR_CONF_BOOL, "false", 0, 0, 0,
     "answer POST /demo/api/login with a token for any user name (demo only: no authentication)"},
    {"secret", SBR_CONF_STRING, "", 0, 0, SBR_CONF_SECRET,
     "HS256 secret of realtime tokens, the same as auth-jwt's; needed with identity_route"},
    {"audience", SBR_CONF_STRING, "superbot-realtime", 0, 0, 0, "aud of the tokens the identity route signs"},
    {"issuer", SBR_CONF_STRING, "superbot", 0, 0, 0, "iss of the tokens the identity route signs"},
    {"ttl_seconds", SBR_CONF_INT, "300", 10, 86400, 0, "lifetime of the tokens the identity route signs"},
    {"server_id", SBR_CONF_STRING, "demo", 0, 0, 0, "the server every demo user is a member of"},
    {"channels", SBR_CONF_STRING, "general, slow:5", 0, 0, 0,
     "comma-separated channel ids of the demo server, each with an optional :slow_mode in seconds"},
    SBR_CONF_END,
};

static struct demo demo;

int demo_id_valid(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return n > 0;
}

int demo_channels_parse(struct demo *d, const char *list, char *why, size_t whylen)
{
    d->n_channels = 0;
    const char *p = list;
    while (*p) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        size_t n = (size_t)(end - p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        char item[DEMO_ID_MAX + 16];
        if (n >= sizeof(item)) {
            snprintf(why, whylen, "channels: '%.*s...' is too long", 20, p);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        p = end;
        char *colon = strchr(item, ':');
        int64_t slow = 0;
        if (colon) {
            *colon = '\0';
            char *stop = NULL;
            long long v = strtoll(colon + 1, &stop, 10);
            if (colon[1] == '\0' || *stop || v < 0 || v > 21600) {
                snprintf(why, whylen, "channels: slow mode of '%s' must be 0 to 21600 seconds", item);
                return -1;
            }
            slow = v;
        }
        if (!demo_id_valid(item, DEMO_ID_MAX)) {
            snprintf(why, whylen, "channels: '%s' is not a channel id (1 to %d of A-Z a-z 0-9 _ . -)", item,
                     DEMO_ID_MAX);
            return -1;
        }
        if (d->n_channels == DEMO_CHANNELS_MAX) {
            snprintf(why, whylen, "channels: at most %d", DEMO_CHANNELS_MAX);
            return -1;
        }
        for (size_t i = 0; i < d->n_channels; i++) {
            if (strcmp(d->channels[i].id, item) == 0) {
                snprintf(why, whylen, "channels: '%s' given twice", item);
                return -1;
            }
        }
        snprintf(d->channels[d->n_channels].id, sizeof(d->channels[0].id), "%.*s", DEMO_ID_MAX, item);
        d->channels[d->n_channels++].slow_mode = slow;
    }
    if (d->n_channels == 0) {
        snprintf(why, whylen, "channels: at least one channel is needed");
        return -1;
    }
    return 0;
}

/* --- the channel registry ---------------------------------------------- */

struct demo_register {
    size_t pending;
    int failed;
    void (*done)(void *ud);
    void *ud;
};

static void demo_register_one_done(const sbr_state_reply *reply, void *userdata)
{
    struct demo_register *r = userdata;
    if (reply->status != SBR_OK)
        r->failed = 1;
    if (--r->pending > 0)
        return;
    if (r->failed && demo.api)
        demo.api->log(demo.self, SBR_LOG_WARN, "could not register the demo channels in shared state");
    if (r->done)
        r->done(r->ud);
    free(r);
}

void demo_channels_register(struct demo *d, void (*done)(void *ud), void *ud)
{
    struct demo_register *r = calloc(1, sizeof(*r));
    if (!r) {
        if (done)
            done(ud);
        return;
    }
    r->done = done;
    r->ud = ud;
    r->pending = 1; /* held until every write is started */
    for (size_t i = 0; i < d->n_channels; i++) {
        char key[DEMO_ID_MAX + 16];
        snprintf(key, sizeof(key), "channels:%s", d->channels[i].id);
        json_t *rec = json_pack("{s:s, s:I}", "server_id", d->server_id, "slow_mode",
                                (json_int_t)d->channels[i].slow_mode);
        char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
        json_decref(rec);
        r->pending++;
        if (!text || d->api->kv_set(key, text, strlen(text), 0, demo_register_one_done, r) != SBR_OK) {
            r->pending--;
            r->failed = 1;
        }
        free(text);
    }
    /* Release the hold; when no write was started this answers now. */
    sbr_state_reply none = {.struct_size = sizeof(none), .status = r->failed ? SBR_ERR_UNAVAILABLE : SBR_OK};
    demo_register_one_done(&none, r);
}

/* The shared backend came back (maybe empty): write the channels again. */
static int demo_bus_state_hook(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_bus_state *ev = event;
    if (ev->state == SBR_BUS_CONNECTED && ev->previous != SBR_BUS_CONNECTED)
        demo_channels_register(&demo, NULL, NULL);
    return 0;
}

/* --- load ------------------------------------------------------------------ */

/* The demo/ folder next to this .so, or NULL. */
static char *demo_default_assets_dir(void)
{
    Dl_info info;
    if (!dladdr((void *)demo_default_assets_dir, &info) || !info.dli_fname)
        return NULL;
    const char *slash = strrchr(info.dli_fname, '/');
    size_t dirlen = slash ? (size_t)(slash - info.dli_fname) : 1;
    const char *dir = slash ? info.dli_fname : ".";
    char *out = malloc(dirlen + sizeof("/demo"));
    if (out) {
        memcpy(out, dir, dirlen);
        memcpy(out + dirlen, "/demo", sizeof("/demo"));
    }
    return out;
}

static void demo_free(void)
{
    demo_assets_free(&demo);
    free(demo.assets_dir);
    free(demo.secret);
    free(demo.audience);
    free(demo.issuer);
    memset(&demo, 0, sizeof(demo));
}

/* What the configuration alone decides (on_check and on_load): the server
 * id and channels into d, and a secret when the identity route is on. */
static int demo_config_read(sbr_plugin *self, const sbr_api *api, struct demo *d)
{
    char why[256];
    const char *server = api->config_string(self, "server_id");
    if (!demo_id_valid(server, DEMO_ID_MAX)) {
        SBR_SET_ERROR_KEY(api, self, "server_id", "'%s' is not an id (1 to %d of A-Z a-z 0-9 _ . -)", server,
                          DEMO_ID_MAX);
        return -1;
    }
    snprintf(d->server_id, sizeof(d->server_id), "%s", server);
    if (demo_channels_parse(d, api->config_string(self, "channels"), why, sizeof(why)) != 0) {
        SBR_SET_ERROR_KEY(api, self, "channels", "%s", why);
        return -1;
    }
    if (api->config_bool(self, "identity_route") && api->config_string(self, "secret")[0] == '\0') {
        SBR_SET_ERROR_KEY(api, self, "identity_route",
                          "identity_route needs the realtime secret: set secret = "
                          "${REALTIME_JWT_SECRET:-${SECRET_KEY:-}} in the demo's conf file");
        return -1;
    }
    return 0;
}

static int demo_check(sbr_plugin *self, const sbr_api *api)
{
    struct demo *scratch = calloc(1, sizeof(*scratch));
    if (!scratch) {
        api->set_error(self, "out of memory");
        return -1;
    }
    int rc = demo_config_read(self, api, scratch);
    free(scratch);
    return rc;
}

static const sbr_metric_def demo_metrics[] = {
    {"superbot_demo_logins_total", SBR_METRIC_COUNTER, "Sign-ins on the demo page's identity route", NULL},
    {NULL, 0, NULL, NULL},
};

static int demo_load(sbr_plugin *self, const sbr_api *api)
{
    memset(&demo, 0, sizeof(demo));
    demo.self = self;
    demo.api = api;

    const char *dir = api->config_string(self, "assets_dir");
    demo.assets_dir = *dir ? strdup(dir) : demo_default_assets_dir();
    demo.identity_route = api->config_bool(self, "identity_route");
    demo.secret = strdup(api->config_string(self, "secret"));
    demo.audience = strdup(api->config_string(self, "audience"));
    demo.issuer = strdup(api->config_string(self, "issuer"));
    demo.ttl_seconds = api->config_int(self, "ttl_seconds");
    if (!demo.assets_dir || !demo.secret || !demo.audience || !demo.issuer) {
        api->set_error(self, "out of memory");
        goto fail;
    }
    demo.secret_len = strlen(demo.secret);
    if (demo_config_read(self, api, &demo) != 0)
        goto fail;
    if (demo_assets_load(&demo) != 0)
        goto fail;

    if (sbr_metrics_declare(api, self, demo_metrics) != SBR_OK ||
        api->http_route(self, "GET", "/demo", demo_asset_route, &demo) != SBR_OK ||
        api->http_route(self, "GET", "/demo/{file}", demo_asset_route, &demo) != SBR_OK ||
        api->http_route(self, "GET", "/demo/api/info", demo_info_route, &demo) != SBR_OK ||
        api->http_route(self, "POST", "/demo/api/login", demo_login_route, &demo) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_BUS_STATE, demo_bus_state_hook, &demo) != SBR_OK) {
        api->set_error(self, "could not register the metrics and /demo routes");
        goto fail;
    }
    demo_channels_register(&demo, NULL, NULL);

    api->log(self, SBR_LOG_INFO, "demo page at /demo/ (files from %s), server '%s', %zu channel(s)",
             demo.assets_dir, demo.server_id, demo.n_channels);
    if (demo.identity_route)
        api->log(self, SBR_LOG_WARN,
                 "identity_route is on: anyone can sign in as any user of server '%s' at POST /demo/api/login; "
                 "never enable it on a real deployment",
                 demo.server_id);
    return 0;
fail:
    demo_free();
    return -1;
}

static void demo_unload(sbr_plugin *self)
{
    demo_free();
}

SBR_PLUGIN_DEFINE(.name = "demo", .version = "1.0.0",
                  .description = "a chat page at /demo/ for trying the gateway in a browser",
                  .config = demo_keys, .on_load = demo_load, .on_unload = demo_unload, .on_check = demo_check)
