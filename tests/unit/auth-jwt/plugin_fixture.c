/* What the tests of the auth-jwt plugin share (see plugin_fixture.h). */
#include "plugin_fixture.h"

#include <check.h>
#include <inttypes.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int auth_load_with(const char *secret, const char *session_secret, const char *const *extra)
{
    const char *config[32] = {"secret", secret, "session_secret", session_secret};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 30; i++)
        config[n++] = extra[i];
    config[n] = NULL;
    fake_set_clock((uint64_t)FAKE_NOW_S * 1000u + 250u);
    return fake_load("auth-jwt", config);
}

char *mint(const char *payload, const char *secret)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, payload), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)), 0);
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

char *realtime_token(const char *sub, const char *sid, const char *servers, int64_t iat, int64_t ttl)
{
    char payload[1024], sid_claim[256] = "";
    if (sid)
        snprintf(sid_claim, sizeof(sid_claim), ",\"sid\":\"%s\"", sid);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"%s\"%s,\"servers\":%s,"
             "\"iat\":%" PRId64 ",\"exp\":%" PRId64 "}",
             sub, sid_claim, servers, iat, iat + ttl);
    return mint(payload, FAKE_REALTIME_SECRET);
}

char *issue(const char *body)
{
    sbr_http_request *req = fake_request("POST", TOKEN_ROUTE, API_KEY_BEARER, body);
    ck_assert_int_eq(fake_reply_status(req), 200);
    json_t *obj = json_loads(fake_reply_body(req), 0, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "expires_in")), 300);
    char *token = strdup(json_string_value(json_object_get(obj, "token")));
    json_decref(obj);
    return token;
}

json_t *claims_of(const char *token)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_decode(&jwt, token, (const unsigned char *)FAKE_REALTIME_SECRET,
                                (int)strlen(FAKE_REALTIME_SECRET)), 0);
    char *text = jwt_get_grants_json(jwt, NULL);
    json_t *obj = json_loads(text, 0, NULL);
    free(text);
    jwt_free(jwt);
    return obj;
}

sbr_conn_id connect_with(const char *token)
{
    int verdict;
    const char *reason;
    sbr_conn_id conn = fake_open(token, NULL, NULL, &verdict, &reason);
    fake_run();
    if (verdict == SBR_PENDING)
        verdict = fake_resumed(conn, &reason);
    ck_assert_msg(verdict == SBR_PASS, "connect refused: %s", reason ? reason : "?");
    return conn;
}
