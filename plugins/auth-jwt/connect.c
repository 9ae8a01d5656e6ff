/* Socket.IO CONNECT: the realtime token from the handshake query or the
 * auth payload, verified, checked against the shared state (check.c: the
 * session denylist, the user's removals), then the connection's identity
 * and its rooms; `ready` once connected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

#define REFUSED_METRIC "superbot_auth_connects_refused_total"

static int connect_refuse(struct auth *auth, sbr_event_connect *ev, const char *reason, const char *why)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "reason=\"%s\"", why);
    auth->api->metric_add(auth->self, REFUSED_METRIC, labels, 1);
    auth->api->log(auth->self, SBR_LOG_DEBUG, "connection %llu refused: %s", (unsigned long long)ev->conn, why);
    ev->reason = reason;
    return SBR_REFUSE;
}

/* The token the client presented: the query's `token`, else the auth
 * payload's.  Returns 0 with *token NULL when there is none (or it is
 * empty), -1 when the auth payload's token is not a string.  *holder keeps
 * the parsed payload alive while *token points into it. */
static int connect_token(const struct auth *auth, const sbr_event_connect *ev, const char **token, json_t **holder)
{
    *token = NULL;
    *holder = NULL;
    const char *q = auth->api->conn_query(ev->conn, "token");
    if (q && *q) {
        *token = q;
        return 0;
    }
    if (!ev->auth_json)
        return 0;
    json_t *payload = json_loads(ev->auth_json, 0, NULL);
    const json_t *t = json_is_object(payload) ? json_object_get(payload, "token") : NULL;
    if (!t || json_is_null(t)) {
        json_decref(payload);
        return 0;
    }
    if (!json_is_string(t) || strlen(json_string_value(t)) != json_string_length(t)) {
        json_decref(payload);
        return -1;
    }
    if (json_string_length(t) == 0) {
        json_decref(payload);
        return 0;
    }
    *token = json_string_value(t);
    *holder = payload;
    return 0;
}

static int same_optional(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* A session bearer in the handshake's Authorization header must be for the
 * same user and session as the realtime token: NULL if so (or there is
 * none), else why not. */
static const char *connect_session_mismatch(const struct auth *auth, sbr_conn_id conn, const char *token,
                                            const struct token_claims *claims)
{
    size_t len = 0;
    const char *bearer = token_bearer(auth->api->conn_header(conn, "Authorization"), &len);
    if (!bearer || auth->settings.session_secret_len == 0)
        return NULL;
    /* A client that put the realtime token itself in the header. */
    if (len == strlen(token) && memcmp(bearer, token, len) == 0)
        return NULL;
    struct token_rules rules;
    auth_rules_session(auth, &rules);
    struct token_claims session;
    if (token_verify(bearer, len, &rules, &session) != TOKEN_OK)
        return "bad_session_bearer";
    int same = strcmp(session.sub, claims->sub) == 0 && same_optional(session.sid, claims->sid);
    token_claims_free(&session);
    return same ? NULL : "session_mismatch";
}

/* Identity, rooms and expiry; SBR_OK or the first failing service's status. */
static int connect_admit(struct auth *auth, sbr_conn_id conn, const struct token_claims *claims)
{
    sbr_identity identity;
    membership_identity_of(claims, &identity);
    int rc = auth->api->conn_set_identity(conn, &identity);
    if (rc == SBR_OK)
        rc = auth_room_join(auth, conn, "user:", claims->sub);
    for (size_t i = 0; rc == SBR_OK && i < claims->n_servers; i++)
        rc = auth_room_join(auth, conn, "server:", claims->servers[i]);
    if (rc == SBR_OK && claims->sid)
        rc = auth_room_join(auth, conn, "session:", claims->sid);
    if (rc == SBR_OK)
        expiry_track(auth, conn, claims->exp);
    return rc;
}

/* A recovering connection: its old `server:` rooms its checked token no
 * longer lists (a server left, a membership removed meanwhile) are not
 * restored; the admission joined the token's own. */
static void connect_restore_filter(const sbr_recovery *rec, const struct token_claims *claims)
{
    for (size_t i = 0; rec && rec->keep && i < rec->n_rooms; i++) {
        const char *room = rec->rooms[i];
        if (strncmp(room, "server:", 7) == 0 &&
            !auth_list_has((const char *const *)claims->servers, claims->n_servers, room + 7))
            rec->keep[i] = 0;
    }
}

/* The verdict on a checked token: admitted, or refused with *reason. */
static int connect_verdict(struct auth *auth, sbr_conn_id conn, const struct token_check *check,
                           const char **reason)
{
    if (check->revoked) {
        auth->api->metric_add(auth->self, REFUSED_METRIC, "reason=\"revoked\"", 1);
        *reason = "invalid_token";
        return SBR_REFUSE;
    }
    int rc = connect_admit(auth, conn, &check->claims);
    if (rc != SBR_OK) {
        auth->api->log(auth->self, SBR_LOG_WARN, "connection %llu: could not set its identity or rooms (%d)",
                       (unsigned long long)conn, rc);
        auth->api->metric_add(auth->self, REFUSED_METRIC, "reason=\"rooms\"", 1);
        *reason = "invalid_token";
        return SBR_REFUSE;
    }
    connect_restore_filter(check->recovery, &check->claims);
    return SBR_PASS;
}

/* The shared state answered: the chain goes on. */
static void connect_checked(struct token_check *check)
{
    struct auth *auth = check->auth;
    const char *reason = NULL;
    if (auth->api->conn_alive(check->conn)) {
        int verdict = connect_verdict(auth, check->conn, check, &reason);
        auth->api->connect_resume(check->conn, (enum sbr_verdict)verdict, reason);
    }
    check_free(check);
}

int connect_hook(enum sbr_event_id id, void *event, void *userdata)
{
    struct auth *auth = userdata;
    sbr_event_connect *ev = event;
    const char *token;
    json_t *holder;
    if (connect_token(auth, ev, &token, &holder) != 0)
        return connect_refuse(auth, ev, "invalid_token", "malformed");
    if (!token)
        return connect_refuse(auth, ev, "authentication_required", "missing_token");

    struct token_rules rules;
    auth_rules_realtime(auth, &rules);
    struct token_claims claims;
    enum token_error err = token_verify(token, strlen(token), &rules, &claims);
    if (err != TOKEN_OK) {
        json_decref(holder);
        return connect_refuse(auth, ev, "invalid_token", token_error_name(err));
    }
    const char *mismatch = connect_session_mismatch(auth, ev->conn, token, &claims);
    json_decref(holder);
    if (mismatch) {
        token_claims_free(&claims);
        return connect_refuse(auth, ev, "invalid_token", mismatch);
    }
    struct token_check *check = check_new(auth, ev->conn, &claims);
    if (!check) {
        token_claims_free(&claims);
        return connect_refuse(auth, ev, "invalid_token", "no_memory");
    }
    check->done = connect_checked;
    /* Lives as long as the connect chain, which waits for the check. */
    check->recovery = SBR_EVENT_HAS(ev, sbr_event_connect, recovery) ? ev->recovery : NULL;
    if (check_start(check))
        return SBR_PENDING;
    int verdict = connect_verdict(auth, ev->conn, check, &ev->reason);
    check_free(check);
    return verdict;
}

int connected_hook(enum sbr_event_id id, void *event, void *userdata)
{
    struct auth *auth = userdata;
    const sbr_event_connected *ev = event;
    const sbr_identity *who = auth->api->conn_identity(ev->conn);
    if (!who || !who->user_id)
        return 0;
    json_t *servers = json_array();
    for (size_t i = 0; servers && i < who->n_servers; i++)
        json_array_append_new(servers, json_string(who->servers[i]));
    json_t *ready = json_pack("{s:s, s:o, s:o}", "user_id", who->user_id, "servers", servers ? servers : json_array(),
                              "session_id", who->session_id ? json_string(who->session_id) : json_null());
    /* The answer to a client that asked for a recovery (sent its pid). */
    if (ready && SBR_EVENT_HAS(ev, sbr_event_connected, recovery_asked) && ev->recovery_asked)
        json_object_set_new(ready, "recovered", json_boolean(ev->recovered));
    char *text = ready ? json_dumps(ready, JSON_COMPACT) : NULL;
    if (text)
        auth->api->emit(ev->conn, "ready", text, 0);
    else
        auth->api->log(auth->self, SBR_LOG_ERROR, "connection %llu: could not build ready",
                       (unsigned long long)ev->conn);
    free(text);
    json_decref(ready);
    return 0;
}
