/* The client event refresh_token {"token"}: a new realtime token for the
 * connection's user (and session, when it has one) replaces its expiry and
 * memberships, checked against the shared state like a connect; the
 * differences are applied as the server API would (SBR_EVENT_IDENTITY).
 * Ack {"ok": true, "expires_in"}, or {"ok": false, "error":
 * "invalid_token"} and the connection keeps its old token. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

#define REFRESH_METRIC "superbot_auth_refreshes_total"

static int refresh_fail(struct auth *auth, sbr_message *msg, const char *why)
{
    auth->api->metric_add(auth->self, REFRESH_METRIC, "result=\"invalid_token\"", 1);
    auth->api->log(auth->self, SBR_LOG_DEBUG, "refresh_token refused: %s", why);
    auth->api->message_reply(msg, "{\"ok\":false,\"error\":\"invalid_token\"}");
    return SBR_CONSUME;
}

/* The token of the event's first argument, verified, for the same user and
 * session as the connection: 0 with *claims, or -1 with *why. */
static int refresh_claims(struct auth *auth, const sbr_event_message *ev, struct token_claims *claims,
                          const char **why)
{
    json_t *args = json_loadb(ev->args_json, ev->args_len, 0, NULL);
    json_t *token = json_object_get(json_array_get(args, 0), "token");
    const char *text = json_string_value(token);
    *why = "no token";
    enum token_error err = TOKEN_ERR_MALFORMED;
    if (text && strlen(text) == json_string_length(token) && *text) {
        struct token_rules rules;
        auth_rules_realtime(auth, &rules);
        err = token_verify(text, strlen(text), &rules, claims);
        *why = token_error_name(err);
    }
    json_decref(args);
    if (err != TOKEN_OK)
        return -1;
    const sbr_identity *who = auth->api->conn_identity(ev->conn);
    if (!who || strcmp(who->user_id, claims->sub) != 0)
        *why = "another user";
    else if (who->session_id && (!claims->sid || strcmp(who->session_id, claims->sid) != 0))
        *why = "another session";
    else
        return 0;
    token_claims_free(claims);
    return -1;
}

/* Replace the identity; the expiry and the rooms follow it (membership.c). */
static void refresh_apply(struct auth *auth, struct token_check *check)
{
    const sbr_api *api = auth->api;
    const sbr_identity *who = api->conn_identity(check->conn);
    if (check->revoked || !who || strcmp(who->user_id, check->claims.sub) != 0) {
        refresh_fail(auth, check->msg, check->revoked ? "revoked" : "the connection changed");
        return;
    }
    sbr_identity next;
    membership_identity_of(&check->claims, &next);
    int rc = api->conn_set_identity(check->conn, &next);
    if (rc != SBR_OK) {
        api->log(auth->self, SBR_LOG_WARN, "connection %llu: could not apply a refreshed token (%d)",
                 (unsigned long long)check->conn, rc);
        api->message_reply(check->msg, "{\"ok\":false,\"error\":\"internal\"}");
        return;
    }
    int64_t left = check->claims.exp - (int64_t)(api->now_ms() / 1000);
    json_t *ack = json_pack("{s:b, s:I}", "ok", 1, "expires_in", (json_int_t)(left > 0 ? left : 0));
    char *text = ack ? json_dumps(ack, JSON_COMPACT) : NULL;
    api->message_reply(check->msg, text ? text : "{\"ok\":true}");
    free(text);
    json_decref(ack);
    api->metric_add(auth->self, REFRESH_METRIC, "result=\"ok\"", 1);
}

static void refresh_checked(struct token_check *check)
{
    if (check->auth->api->conn_alive(check->conn))
        refresh_apply(check->auth, check);
    else
        check->auth->api->message_reply(check->msg, NULL);
    check_free(check);
}

int refresh_handler(enum sbr_event_id id, void *event, void *userdata)
{
    struct auth *auth = userdata;
    sbr_event_message *ev = event;
    struct token_claims claims;
    const char *why = NULL;
    if (refresh_claims(auth, ev, &claims, &why) != 0)
        return refresh_fail(auth, ev->msg, why);
    struct token_check *check = check_new(auth, ev->conn, &claims);
    if (!check) {
        token_claims_free(&claims);
        auth->api->message_reply(ev->msg, "{\"ok\":false,\"error\":\"internal\"}");
        return SBR_CONSUME;
    }
    check->msg = ev->msg;
    check->done = refresh_checked;
    if (!check_start(check)) {
        refresh_apply(auth, check);
        check_free(check);
    }
    return SBR_CONSUME;
}
