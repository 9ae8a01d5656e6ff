/* GET /demo/api/info: what the page needs to know before signing in.
 * POST /demo/api/login {"user": "alice"}: the demo-only identity route, a
 * realtime token for that name as a member of the demo server. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "demo.h"
#include "token.h"

static json_t *demo_channels_json(const struct demo *d)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < d->n_channels; i++)
        json_array_append_new(arr, json_pack("{s:s, s:I}", "id", d->channels[i].id, "slow_mode",
                                             (json_int_t)d->channels[i].slow_mode));
    return arr;
}

static void demo_reply_json(const struct demo *d, sbr_http_request *req, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    d->api->http_reply(req, text ? status : 500, text ? text : "{\"error\":\"internal_error\"}", NULL);
    free(text);
}

static void demo_reply_error(const struct demo *d, sbr_http_request *req, int status, const char *code)
{
    demo_reply_json(d, req, status, json_pack("{s:s}", "error", code));
}

void demo_info_route(sbr_http_request *req, void *userdata)
{
    struct demo *d = userdata;
    int socket_io = 0;
    for (size_t i = 0; i < d->n_assets; i++)
        if (strcmp(d->assets[i].name, "socket.io.min.js") == 0 && d->assets[i].data)
            socket_io = 1;
    demo_reply_json(d, req, 200,
                    json_pack("{s:b, s:s, s:o, s:b}", "identity_route", d->identity_route, "server_id",
                              d->server_id, "channels", demo_channels_json(d), "socket_io", socket_io));
}

struct demo_login {
    struct demo *d;
    sbr_http_request *req;
    char user[DEMO_USER_MAX + 1];
};

/* The channels are in the registry: sign and answer. */
static void demo_login_answer(void *userdata)
{
    struct demo_login *login = userdata;
    struct demo *d = login->d;
    const char *servers[] = {d->server_id};
    struct token_issue issue = {
        .issuer = d->issuer,
        .audience = d->audience,
        .sub = login->user,
        .servers = servers,
        .n_servers = 1,
        .iat = (int64_t)(d->api->now_ms() / 1000),
        .ttl = d->ttl_seconds,
    };
    char *token = token_sign(&issue, d->secret, d->secret_len);
    if (!token) {
        d->api->log(d->self, SBR_LOG_ERROR, "could not sign a token");
        demo_reply_error(d, login->req, 500, "internal_error");
    } else {
        demo_reply_json(d, login->req, 200,
                        json_pack("{s:s, s:I, s:s, s:s, s:o}", "token", token, "expires_in",
                                  (json_int_t)d->ttl_seconds, "user_id", login->user, "server_id", d->server_id,
                                  "channels", demo_channels_json(d)));
        d->api->metric_add(d->self, "superbot_demo_logins_total", NULL, 1);
    }
    free(token);
    free(login);
}

void demo_login_route(sbr_http_request *req, void *userdata)
{
    struct demo *d = userdata;
    if (!d->identity_route) {
        demo_reply_error(d, req, 403, "identity_route_disabled");
        return;
    }
    size_t len = 0;
    const char *body = d->api->http_body(req, &len);
    json_t *doc = body && len ? json_loadb(body, len, JSON_ALLOW_NUL, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        demo_reply_error(d, req, 400, "invalid_json");
        return;
    }
    json_t *user = json_object_get(doc, "user");
    const char *name = json_is_string(user) ? json_string_value(user) : "";
    if (strlen(name) != json_string_length(user) || !demo_id_valid(name, DEMO_USER_MAX)) {
        json_decref(doc);
        demo_reply_error(d, req, 400, "invalid_user");
        return;
    }
    struct demo_login *login = calloc(1, sizeof(*login));
    if (!login) {
        json_decref(doc);
        demo_reply_error(d, req, 500, "internal_error");
        return;
    }
    login->d = d;
    login->req = req;
    snprintf(login->user, sizeof(login->user), "%s", name);
    json_decref(doc);
    /* Shared state may have been flushed since load: register again first. */
    demo_channels_register(d, demo_login_answer, login);
}
