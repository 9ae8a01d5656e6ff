/* PUT /api/realtime/users/{user_id}/servers/{server_id} (optional body
 * {"moderator": true}) and DELETE of the same path: a membership added or
 * removed for every socket of the user, on every worker.  The removal (or
 * the end of one, for a PUT) is stored first, so that a socket connecting
 * meanwhile is judged by it, then the change is published on
 * "auth.membership" (membership.c applies it on each worker).  Unknown
 * users are nobody's business here: 200, with nothing to do. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

#define MEMBERSHIP_METRIC "superbot_auth_membership_changes_total"

struct membership_request {
    struct auth *auth;
    sbr_http_request *req;
    char *change; /* the JSON published */
    char *answer; /* the JSON of a 200 */
};

static void membership_request_free(struct membership_request *r)
{
    free(r->change);
    free(r->answer);
    free(r);
}

static void membership_reply_invalid(const struct auth *auth, sbr_http_request *req, const char *detail)
{
    json_t *obj = json_pack("{s:s, s:s}", "error", "invalid_body", "detail", detail);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    auth->api->http_reply(req, 400, text ? text : "{\"error\":\"invalid_body\"}", NULL);
    free(text);
    json_decref(obj);
}

/* An id of the path: what a token may carry, and valid UTF-8 (it is echoed in JSON). */
static int membership_id_valid(const char *id)
{
    if (!id || !token_id_valid(id, strlen(id)))
        return 0;
    json_t *probe = json_string(id);
    json_decref(probe);
    return probe != NULL;
}

/* The body of a PUT: nothing, or {"moderator": true|false|null}.  0 with
 * *moderator set, or -1 after answering 400. */
static int membership_moderator(const struct auth *auth, sbr_http_request *req, int *moderator)
{
    size_t len = 0;
    const char *body = auth->api->http_body(req, &len);
    *moderator = 0;
    if (!body || len == 0)
        return 0;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    json_t *flag = json_is_object(doc) ? json_object_get(doc, "moderator") : NULL;
    int ok = doc && json_is_object(doc) && (!flag || json_is_boolean(flag) || json_is_null(flag));
    *moderator = json_is_true(flag);
    if (!doc)
        auth_reply_error(auth, req, 400, "invalid_json");
    else if (!json_is_object(doc))
        auth_reply_error(auth, req, 400, "invalid_body");
    else if (!ok)
        membership_reply_invalid(auth, req, "moderator must be true or false");
    json_decref(doc);
    return ok ? 0 : -1;
}

/* The state answered (or could not be asked): publish in any case, the
 * live sockets must follow; 503 tells the backend the removal may not hold. */
static void membership_stored(const sbr_state_reply *reply, void *userdata)
{
    struct membership_request *r = userdata;
    const struct auth *auth = r->auth;
    int ok = reply && reply->status == SBR_OK;
    if (!ok)
        auth->api->log(auth->self, SBR_LOG_ERROR, "could not store a membership change: a removal may not hold "
                                                  "against older tokens");
    auth->api->bus_publish(MEMBERSHIP_TOPIC, r->change, strlen(r->change));
    if (ok)
        auth->api->http_reply(r->req, 200, r->answer, NULL);
    else
        auth_reply_error(auth, r->req, 503, "unavailable");
    membership_request_free(r);
}

static struct membership_request *membership_request_new(struct auth *auth, sbr_http_request *req,
                                                         const char *user_id, const char *server_id, int member,
                                                         int moderator)
{
    struct membership_request *r = calloc(1, sizeof(*r));
    json_t *change = json_pack("{s:s, s:s, s:b, s:b}", "user_id", user_id, "server_id", server_id, "member",
                               member, "moderator", moderator);
    json_t *answer = member ? json_pack("{s:b, s:s, s:s, s:b, s:b}", "ok", 1, "user_id", user_id, "server_id",
                                        server_id, "member", 1, "moderator", moderator)
                            : json_pack("{s:b, s:s, s:s, s:b}", "ok", 1, "user_id", user_id, "server_id",
                                        server_id, "member", 0);
    if (r) {
        r->auth = auth;
        r->req = req;
        r->change = change ? json_dumps(change, JSON_COMPACT) : NULL;
        r->answer = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    }
    json_decref(change);
    json_decref(answer);
    if (r && (!r->change || !r->answer)) {
        membership_request_free(r);
        r = NULL;
    }
    return r;
}

void membership_route_handle(sbr_http_request *req, void *userdata)
{
    struct auth *auth = userdata;
    const sbr_api *api = auth->api;
    if (!api->http_check_api_key(req)) {
        auth_reply_error(auth, req, 401, "unauthorized");
        return;
    }
    const char *user_id = api->http_param(req, "user_id");
    const char *server_id = api->http_param(req, "server_id");
    if (!membership_id_valid(user_id) || !membership_id_valid(server_id)) {
        membership_reply_invalid(auth, req, membership_id_valid(user_id)
                                                ? "server_id must be 1 to 200 bytes of UTF-8 without control characters"
                                                : "user_id must be 1 to 200 bytes of UTF-8 without control characters");
        return;
    }
    int member = strcmp(api->http_method(req), "PUT") == 0, moderator = 0;
    if (member && membership_moderator(auth, req, &moderator) != 0)
        return;
    struct membership_request *r = membership_request_new(auth, req, user_id, server_id, member, moderator);
    if (!r) {
        auth_reply_error(auth, req, 500, "internal_error");
        return;
    }
    api->metric_add(auth->self, MEMBERSHIP_METRIC, member ? "change=\"added\"" : "change=\"removed\"", 1);
    int rc = member ? removal_clear(auth, user_id, server_id, membership_stored, r)
                    : removal_store(auth, user_id, server_id, membership_stored, r);
    if (rc != SBR_OK)
        membership_stored(NULL, r);
}
