/* POST /api/realtime/token: who is asking (a session bearer of the primary
 * app, or the backend with the API key and a JSON body), answered with a
 * signed realtime token. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"
#include "issue_body.h"

/* The identity of the request into *who; 0, or -1 after answering. */
static int token_route_identity(struct auth *auth, sbr_http_request *req, struct token_claims *who,
                                const char **source)
{
    const sbr_api *api = auth->api;
    if (api->http_check_api_key(req)) {
        size_t len = 0;
        const char *body = api->http_body(req, &len);
        switch (issue_body_parse(body, len, who)) {
        case ISSUE_BODY_OK:
            *source = "source=\"api_key\"";
            return 0;
        case ISSUE_BODY_INVALID_JSON:
            auth_reply_error(auth, req, 400, "invalid_json");
            return -1;
        case ISSUE_BODY_INVALID:
            break;
        }
        auth_reply_error(auth, req, 400, "invalid_body");
        return -1;
    }
    size_t len = 0;
    const char *bearer = token_bearer(api->http_header(req, "Authorization"), &len);
    struct token_rules rules;
    auth_rules_session(auth, &rules);
    if (!bearer || rules.secret_len == 0 || token_verify(bearer, len, &rules, who) != TOKEN_OK) {
        auth_reply_error(auth, req, 401, "authentication_required");
        return -1;
    }
    *source = "source=\"session\"";
    return 0;
}

static char *token_route_answer(const char *token, int64_t expires_in)
{
    json_t *obj = json_pack("{s:s, s:I}", "token", token, "expires_in", (json_int_t)expires_in);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    return text;
}

void token_route_handle(sbr_http_request *req, void *userdata)
{
    struct auth *auth = userdata;
    const sbr_api *api = auth->api;
    const struct auth_settings *s = &auth->settings;
    struct token_claims who;
    const char *source = NULL;
    if (token_route_identity(auth, req, &who, &source) != 0)
        return;

    struct token_issue issue = {
        .issuer = s->issuer,
        .audience = s->audience,
        .sub = who.sub,
        .sid = who.sid,
        .servers = (const char *const *)who.servers,
        .n_servers = who.n_servers,
        .moderates = (const char *const *)who.moderates,
        .n_moderates = who.n_moderates,
        .has_moderates = who.has_moderates,
        .iat = (int64_t)(api->now_ms() / 1000),
        .ttl = s->ttl_seconds,
    };
    char *token = token_sign(&issue, s->secret, s->secret_len);
    token_claims_free(&who);
    if (!token) {
        api->log(auth->self, SBR_LOG_ERROR, "could not sign a token");
        auth_reply_error(auth, req, 500, "internal_error");
        return;
    }
    /* A token the connect check would refuse as oversize is no token. */
    if (strlen(token) > s->max_token_bytes) {
        free(token);
        auth_reply_error(auth, req, 400, "token_too_large");
        return;
    }
    char *answer = token_route_answer(token, s->ttl_seconds);
    free(token);
    if (!answer) {
        auth_reply_error(auth, req, 500, "internal_error");
        return;
    }
    api->http_reply(req, 200, answer, NULL);
    free(answer);
    api->metric_add(auth->self, "superbot_auth_tokens_issued_total", source, 1);
}
