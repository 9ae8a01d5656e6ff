/* auth-jwt: realtime tokens at POST /api/realtime/token, verification at
 * the Socket.IO CONNECT and on refresh_token, session revocation, live
 * memberships and token expiry across workers. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

/* HS256 keys shorter than the hash output weaken it (RFC 7518 3.2). */
#define AUTH_SECRET_MIN_BYTES 32

/* `secret` is SBR_CONF_REQUIRED, so --check-config refuses an empty one
 * too; its help text names the variables it comes from. */
static const sbr_config_key auth_config[] = {
    {"secret", SBR_CONF_STRING, NULL, 0, 0, SBR_CONF_SECRET | SBR_CONF_RELOADABLE | SBR_CONF_REQUIRED,
     "HS256 secret of realtime tokens: set REALTIME_JWT_SECRET (or SECRET_KEY, which it falls back to)"},
    {"session_secret", SBR_CONF_STRING, "", 0, 0, SBR_CONF_SECRET | SBR_CONF_RELOADABLE,
     "SECRET_KEY of the primary app, verifying session bearers; empty: session bearers are refused"},
    {"ttl_seconds", SBR_CONF_INT, "300", 1, 86400, SBR_CONF_RELOADABLE, "lifetime of issued tokens"},
    {"audience", SBR_CONF_STRING, "superbot-realtime", 0, 0, SBR_CONF_REQUIRED | SBR_CONF_RELOADABLE,
     "aud put on and required of realtime tokens"},
    {"issuer", SBR_CONF_STRING, "superbot", 0, 0, SBR_CONF_REQUIRED | SBR_CONF_RELOADABLE,
     "iss put on and required of realtime tokens"},
    {"leeway_seconds", SBR_CONF_INT, "5", 0, 300, SBR_CONF_RELOADABLE, "clock skew allowed on exp, nbf and iat"},
    {"max_token_bytes", SBR_CONF_INT, "4096", 256, 65536, SBR_CONF_RELOADABLE,
     "longest token accepted at connect or issued"},
    {"session_require_exp", SBR_CONF_BOOL, "true", 0, 0, SBR_CONF_RELOADABLE,
     "refuse session bearers without exp (a leaked one would mint realtime tokens forever)"},
    {"expire_connections", SBR_CONF_BOOL, "false", 0, 0, SBR_CONF_RELOADABLE,
     "end a socket whose token expired (plus leeway) without a refresh, with disconnect_reason token_expired"},
    {"end_when_no_servers", SBR_CONF_BOOL, "false", 0, 0, SBR_CONF_RELOADABLE,
     "end a socket whose user left the last server it had, with disconnect_reason removed"},
    SBR_CONF_END};

static struct auth auth_state;

static void auth_settings_free(struct auth_settings *s)
{
    free(s->secret);
    free(s->session_secret);
    free(s->audience);
    free(s->issuer);
    memset(s, 0, sizeof(*s));
}

/* Copy the settings out of the core (its strings live only until a reload);
 * -1 with *why, and the key at fault in *key (or NULL), when something is
 * unusable. */
static int auth_settings_read(struct auth *auth, struct auth_settings *s, const char **why, const char **key)
{
    *key = NULL;
    const sbr_api *api = auth->api;
    memset(s, 0, sizeof(*s));
    s->secret = strdup(api->config_string(auth->self, "secret"));
    s->session_secret = strdup(api->config_string(auth->self, "session_secret"));
    s->audience = strdup(api->config_string(auth->self, "audience"));
    s->issuer = strdup(api->config_string(auth->self, "issuer"));
    s->ttl_seconds = api->config_int(auth->self, "ttl_seconds");
    s->leeway_seconds = api->config_int(auth->self, "leeway_seconds");
    s->max_token_bytes = (size_t)api->config_int(auth->self, "max_token_bytes");
    s->session_require_exp = api->config_bool(auth->self, "session_require_exp");
    s->expire_connections = api->config_bool(auth->self, "expire_connections");
    s->end_when_no_servers = api->config_bool(auth->self, "end_when_no_servers");
    if (!s->secret || !s->session_secret || !s->audience || !s->issuer) {
        *why = "out of memory";
        auth_settings_free(s);
        return -1;
    }
    s->secret_len = strlen(s->secret);
    s->session_secret_len = strlen(s->session_secret);
    if (s->secret_len == 0) {
        *why = "no secret for realtime tokens: set REALTIME_JWT_SECRET (or SECRET_KEY, which it falls back to)";
        *key = "secret";
        auth_settings_free(s);
        return -1;
    }
    if (s->audience[0] == '\0' || s->issuer[0] == '\0') {
        *why = "audience and issuer must not be empty";
        *key = s->audience[0] == '\0' ? "audience" : "issuer";
        auth_settings_free(s);
        return -1;
    }
    return 0;
}

static void auth_settings_announce(const struct auth *auth)
{
    const struct auth_settings *s = &auth->settings;
    if (s->secret_len < AUTH_SECRET_MIN_BYTES)
        auth->api->log(auth->self, SBR_LOG_WARN, "the realtime token secret is shorter than %d bytes",
                       AUTH_SECRET_MIN_BYTES);
    if (s->session_secret_len == 0)
        auth->api->log(auth->self, SBR_LOG_INFO, "SECRET_KEY unset: session bearers are refused");
    else if (s->session_secret_len == s->secret_len && memcmp(s->secret, s->session_secret, s->secret_len) == 0)
        auth->api->log(auth->self, SBR_LOG_INFO, "REALTIME_JWT_SECRET unset: realtime tokens are signed with SECRET_KEY");
}

void auth_rules_realtime(const struct auth *auth, struct token_rules *rules)
{
    const struct auth_settings *s = &auth->settings;
    memset(rules, 0, sizeof(*rules));
    rules->secret = s->secret;
    rules->secret_len = s->secret_len;
    rules->audience = s->audience;
    rules->issuer = s->issuer;
    rules->now = (int64_t)(auth->api->now_ms() / 1000);
    rules->leeway = s->leeway_seconds;
    rules->max_bytes = s->max_token_bytes;
    rules->strict = 1;
}

void auth_rules_session(const struct auth *auth, struct token_rules *rules)
{
    const struct auth_settings *s = &auth->settings;
    memset(rules, 0, sizeof(*rules));
    rules->secret = s->session_secret;
    rules->secret_len = s->session_secret_len;
    rules->now = (int64_t)(auth->api->now_ms() / 1000);
    rules->leeway = s->leeway_seconds;
    rules->max_bytes = s->max_token_bytes;
    rules->require_exp = s->session_require_exp;
    rules->refuse_audience = s->audience;
}

void auth_reply_error(const struct auth *auth, sbr_http_request *req, int status, const char *code)
{
    json_t *obj = json_pack("{s:s}", "error", code);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    auth->api->http_reply(req, status, text ? text : "{\"error\":\"internal_error\"}", NULL);
    free(text);
    json_decref(obj);
}

static int auth_reload_hook(enum sbr_event_id id, void *event, void *userdata)
{
    struct auth *auth = userdata;
    struct auth_settings fresh;
    const char *why = NULL, *key = NULL;
    if (auth_settings_read(auth, &fresh, &why, &key) != 0) {
        auth->api->log(auth->self, SBR_LOG_WARN, "reload: %s; keeping the previous token settings", why);
        return 0;
    }
    auth_settings_free(&auth->settings);
    auth->settings = fresh;
    auth_settings_announce(auth);
    expiry_configure(auth);
    return 0;
}

static int auth_disconnect_hook(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_disconnect *ev = event;
    expiry_forget(userdata, ev->conn);
    return 0;
}

static void auth_set_error(const sbr_api *api, sbr_plugin *self, const char *key, const char *why)
{
    if (key)
        SBR_SET_ERROR_KEY(api, self, key, "%s", why);
    else
        api->set_error(self, "%s", why);
}

static int auth_check(sbr_plugin *self, const sbr_api *api)
{
    struct auth probe = {.self = self, .api = api};
    struct auth_settings s;
    const char *why = NULL, *key = NULL;
    if (auth_settings_read(&probe, &s, &why, &key) != 0) {
        auth_set_error(api, self, key, why);
        return -1;
    }
    auth_settings_free(&s);
    return 0;
}

/* Every reason connect.c counts (token_error_name, the session checks,
 * revocations), so each series is scraped at 0 from start-up. */
static const char *const auth_refusal_labels[] = {
    "reason=\"missing_token\"", "reason=\"oversize\"", "reason=\"malformed\"", "reason=\"bad_alg\"",
    "reason=\"bad_signature\"", "reason=\"expired\"", "reason=\"not_yet_valid\"",
    "reason=\"issued_in_future\"", "reason=\"bad_audience\"", "reason=\"bad_issuer\"",
    "reason=\"bad_subject\"", "reason=\"bad_claims\"", "reason=\"no_memory\"", "reason=\"bad_session_bearer\"",
    "reason=\"session_mismatch\"", "reason=\"rooms\"", "reason=\"revoked\"", NULL};
static const char *const auth_source_labels[] = {"source=\"session\"", "source=\"api_key\"", NULL};
static const char *const auth_change_labels[] = {"change=\"added\"", "change=\"removed\"", NULL};
static const char *const auth_refresh_labels[] = {"result=\"ok\"", "result=\"invalid_token\"", NULL};
static const sbr_metric_def auth_metrics[] = {
    {"superbot_auth_connects_refused_total", SBR_METRIC_COUNTER,
     "Socket.IO connections refused by auth-jwt, by reason", auth_refusal_labels},
    {"superbot_auth_tokens_issued_total", SBR_METRIC_COUNTER,
     "Realtime tokens issued at POST /api/realtime/token, by identity source", auth_source_labels},
    {"superbot_auth_revocations_total", SBR_METRIC_COUNTER, "Sessions revoked through the server API", NULL},
    {"superbot_auth_membership_changes_total", SBR_METRIC_COUNTER,
     "Memberships added (PUT) or removed (DELETE) through the server API", auth_change_labels},
    {"superbot_auth_refreshes_total", SBR_METRIC_COUNTER, "refresh_token events, by result", auth_refresh_labels},
    {"superbot_auth_expired_total", SBR_METRIC_COUNTER,
     "Sockets ended because their token expired without a refresh (expire_connections)", NULL},
    {"superbot_auth_removed_disconnects_total", SBR_METRIC_COUNTER,
     "Sockets ended because their user left the last server they had (end_when_no_servers)", NULL},
    {NULL, 0, NULL, NULL},
};

#define MEMBERSHIP_ROUTE "/api/realtime/users/{user_id}/servers/{server_id}"

static int auth_register(struct auth *auth)
{
    sbr_plugin *self = auth->self;
    const sbr_api *api = auth->api;
    return sbr_metrics_declare(api, self, auth_metrics) != SBR_OK ||
           api->hook_register(self, SBR_EVENT_CONNECT, connect_hook, auth) != SBR_OK ||
           api->hook_register(self, SBR_EVENT_CONNECTED, connected_hook, auth) != SBR_OK ||
           api->hook_register(self, SBR_EVENT_DISCONNECT, auth_disconnect_hook, auth) != SBR_OK ||
           api->hook_register(self, SBR_EVENT_IDENTITY, membership_identity_hook, auth) != SBR_OK ||
           api->hook_register(self, SBR_EVENT_RELOAD, auth_reload_hook, auth) != SBR_OK ||
           api->message_handler(self, "refresh_token", refresh_handler, auth) != SBR_OK ||
           api->http_route(self, "POST", "/api/realtime/token", token_route_handle, auth) != SBR_OK ||
           api->http_route(self, "POST", "/api/realtime/sessions/{sid}/revoke", revoke_route_handle, auth) !=
               SBR_OK ||
           api->http_route(self, "PUT", MEMBERSHIP_ROUTE, membership_route_handle, auth) != SBR_OK ||
           api->http_route(self, "DELETE", MEMBERSHIP_ROUTE, membership_route_handle, auth) != SBR_OK ||
           api->bus_subscribe(self, REVOKE_TOPIC, revoke_bus_message, auth) != SBR_OK ||
           api->bus_subscribe(self, MEMBERSHIP_TOPIC, membership_bus_message, auth) != SBR_OK
               ? -1
               : 0;
}

static int auth_load(sbr_plugin *self, const sbr_api *api)
{
    struct auth *auth = &auth_state;
    memset(auth, 0, sizeof(*auth));
    auth->self = self;
    auth->api = api;
    if (!SBR_API_HAS(api, message_handler)) {
        api->set_error(self, "this core lacks message_handler, needed for refresh_token");
        return -1;
    }
    const char *why = NULL, *key = NULL;
    if (auth_settings_read(auth, &auth->settings, &why, &key) != 0) {
        auth_set_error(api, self, key, why);
        return -1;
    }
    auth_settings_announce(auth);
    if (auth_register(auth) != 0) {
        api->set_error(self, "could not register metrics, hooks, routes, refresh_token or the bus topics");
        auth_settings_free(&auth->settings);
        return -1;
    }
    return 0;
}

static void auth_unload(sbr_plugin *self)
{
    check_free_all(&auth_state);
    expiry_free(&auth_state);
    auth_settings_free(&auth_state.settings);
}

SBR_PLUGIN_DEFINE(.name = "auth-jwt", .version = "1.0.0",
                  .description = "realtime JWTs: issuing, verification at connect and refresh, revocation, live memberships",
                  .config = auth_config, .on_load = auth_load, .on_unload = auth_unload, .on_check = auth_check)
