/* Session revocation: a denylist entry in the shared state that outlives
 * every token of the session (so it expires by itself), then a broadcast
 * on which every worker closes its sockets of that session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

#define SESSION_ROOM_PREFIX "session:"

struct revoke_request {
    struct auth *auth;
    sbr_http_request *req;
    size_t sid_len;
    char sid[];
};

void revoke_bus_message(const char *topic, const char *data, size_t len, void *userdata)
{
    struct auth *auth = userdata;
    if (!token_id_valid(data, len))
        return;
    struct auth_conns list;
    auth_room_members(auth, SESSION_ROOM_PREFIX, data, len, &list);
    if (list.failed)
        auth->api->log(auth->self, SBR_LOG_ERROR, "out of memory: some sockets of a revoked session stay open");
    for (size_t i = 0; i < list.n; i++)
        auth->api->conn_end(list.ids[i], "revoked");
    if (list.n)
        auth->api->log(auth->self, SBR_LOG_INFO, "session revoked: closed %zu socket(s)", list.n);
    free(list.ids);
}

static void revoke_answer(struct revoke_request *r, int ok)
{
    const struct auth *auth = r->auth;
    if (!ok) {
        auth_reply_error(auth, r->req, 503, "unavailable");
        return;
    }
    json_t *obj = json_pack("{s:b, s:s%}", "ok", 1, "revoked", r->sid, r->sid_len);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (text)
        auth->api->http_reply(r->req, 200, text, NULL);
    else
        auth_reply_error(auth, r->req, 500, "internal_error");
    free(text);
    json_decref(obj);
}

/* The denylist holds first, so a kicked client reconnecting at once is
 * already refused; the sockets are closed even when it could not be set. */
static void revoke_stored(const sbr_state_reply *reply, void *userdata)
{
    struct revoke_request *r = userdata;
    const sbr_api *api = r->auth->api;
    int ok = reply->status == SBR_OK;
    if (!ok)
        api->log(r->auth->self, SBR_LOG_ERROR, "could not store a session revocation: its tokens stay valid");
    api->bus_publish(REVOKE_TOPIC, r->sid, r->sid_len);
    revoke_answer(r, ok);
    free(r);
}

void revoke_route_handle(sbr_http_request *req, void *userdata)
{
    struct auth *auth = userdata;
    const sbr_api *api = auth->api;
    if (!api->http_check_api_key(req)) {
        auth_reply_error(auth, req, 401, "unauthorized");
        return;
    }
    const char *sid = api->http_param(req, "sid");
    size_t sid_len = sid ? strlen(sid) : 0;
    if (!sid || !token_id_valid(sid, sid_len)) {
        auth_reply_error(auth, req, 400, "invalid_session_id");
        return;
    }
    struct revoke_request *r = malloc(sizeof(*r) + sid_len + 1);
    if (!r) {
        auth_reply_error(auth, req, 500, "internal_error");
        return;
    }
    r->auth = auth;
    r->req = req;
    r->sid_len = sid_len;
    memcpy(r->sid, sid, sid_len + 1);

    char key[sizeof(REVOKE_KEY_PREFIX) + TOKEN_ID_MAX];
    snprintf(key, sizeof(key), REVOKE_KEY_PREFIX "%s", sid);
    uint64_t ttl_ms = (uint64_t)(auth->settings.ttl_seconds + auth->settings.leeway_seconds) * 1000u;
    api->metric_add(auth->self, "superbot_auth_revocations_total", NULL, 1);
    if (api->kv_set(key, "1", 1, ttl_ms, revoke_stored, r) != SBR_OK) {
        api->log(auth->self, SBR_LOG_ERROR, "no session state: a revocation only closes live sockets");
        api->bus_publish(REVOKE_TOPIC, r->sid, r->sid_len);
        revoke_answer(r, 0);
        free(r);
    }
}
