/* The auth-jwt plugin's shared state (private): settings read from conf.d
 * and the host table, handed to every hook, route and callback. */
#ifndef AUTH_JWT_AUTH_H
#define AUTH_JWT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <superbot-realtime/plugin.h>

#include "token.h"

struct auth_settings {
    char *secret; /* realtime tokens */
    size_t secret_len;
    char *session_secret; /* session bearers of the primary app; "" disables them */
    size_t session_secret_len;
    char *audience;
    char *issuer;
    int64_t ttl_seconds;
    int64_t leeway_seconds;
    size_t max_token_bytes;
    int session_require_exp; /* session bearers without exp are refused */
};

struct auth {
    sbr_plugin *self;
    const sbr_api *api;
    struct auth_settings settings;
    int bus_failing; /* the last revocation lookup failed: warn once per outage */
};

/* How realtime tokens (strict) and session bearers (lenient) are judged now. */
void auth_rules_realtime(const struct auth *auth, struct token_rules *rules);
void auth_rules_session(const struct auth *auth, struct token_rules *rules);

/* Answer {"error": code} with status. */
void auth_reply_error(const struct auth *auth, sbr_http_request *req, int status, const char *code);

/* POST /api/realtime/token */
void token_route_handle(sbr_http_request *req, void *userdata);

/* SBR_EVENT_CONNECT and SBR_EVENT_CONNECTED. */
int connect_hook(enum sbr_event_id id, void *event, void *userdata);
int connected_hook(enum sbr_event_id id, void *event, void *userdata);

/* POST /api/realtime/sessions/{sid}/revoke, and the "auth.revoke" topic
 * every worker listens to. */
#define REVOKE_TOPIC "auth.revoke"
#define REVOKE_KEY_PREFIX "auth:revoked:"
void revoke_route_handle(sbr_http_request *req, void *userdata);
void revoke_bus_message(const char *topic, const char *data, size_t len, void *userdata);

#endif
