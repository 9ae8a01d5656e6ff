/* The plugin through a fake host: issuing, connect verdicts, identity and
 * rooms, `ready`, revocation and the denylist, start-up without a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>
#include <jwt.h>

#include "fake_host.h"

#define TOKEN_ROUTE "/api/realtime/token"
#define REVOKE_ROUTE "/api/realtime/sessions/{sid}/revoke"

static char *mint(const char *payload, const char *secret)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, payload), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)), 0);
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

/* Issue a token through the route with the API key; the caller frees. */
static char *issue(const char *body)
{
    struct sbr_http_request req = {.authorization = "Bearer " FAKE_API_KEY, .body = body};
    fake_http("POST", TOKEN_ROUTE, &req);
    ck_assert_int_eq(req.status, 200);
    json_t *obj = json_loads(req.reply, 0, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(obj, "expires_in")), 300);
    char *token = strdup(json_string_value(json_object_get(obj, "token")));
    json_decref(obj);
    free(req.reply);
    return token;
}

static json_t *claims_of(const char *token)
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

static void setup(void)
{
    ck_assert_int_eq(fake_load(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET), 0);
}

static void teardown(void)
{
    fake_unload();
}

START_TEST(test_refuses_to_start_without_secret)
{
    ck_assert_int_ne(fake_load("", ""), 0);
    ck_assert_ptr_nonnull(strstr(fake_error, "REALTIME_JWT_SECRET"));
    ck_assert_ptr_nonnull(strstr(fake_error, "SECRET_KEY"));
    fake_unload();
}
END_TEST

START_TEST(test_issue_api_key)
{
    char *token = issue("{\"user_id\":\"u1\",\"servers\":[\"s1\"],\"session_id\":\"sess1\",\"moderates\":[\"s1\"]}");
    json_t *c = claims_of(token);
    ck_assert_str_eq(json_string_value(json_object_get(c, "iss")), "superbot");
    ck_assert_str_eq(json_string_value(json_object_get(c, "aud")), "superbot-realtime");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "u1");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sid")), "sess1");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "iat")), FAKE_NOW_S);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), FAKE_NOW_S + 300);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "servers"), 0)), "s1");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c, "moderates"), 0)), "s1");
    json_decref(c);
    free(token);
    ck_assert(fake_metric("superbot_auth_tokens_issued_total", "source=\"api_key\"") == 1);
}
END_TEST

START_TEST(test_issue_bad_bodies)
{
    struct sbr_http_request bad_json = {.authorization = "Bearer " FAKE_API_KEY, .body = "{nope"};
    fake_http("POST", TOKEN_ROUTE, &bad_json);
    ck_assert_int_eq(bad_json.status, 400);
    ck_assert_str_eq(bad_json.reply, "{\"error\":\"invalid_json\"}");
    struct sbr_http_request bad_type = {.authorization = "Bearer " FAKE_API_KEY, .body = "{\"user_id\":[1]}"};
    fake_http("POST", TOKEN_ROUTE, &bad_type);
    ck_assert_int_eq(bad_type.status, 400);
    ck_assert_str_eq(bad_type.reply, "{\"error\":\"invalid_body\"}");
    free(bad_json.reply);
    free(bad_type.reply);
}
END_TEST

START_TEST(test_issue_session_bearer)
{
    char *session = mint("{\"sub\":\"u2\",\"sid\":\"sess2\",\"servers\":[\"a\",\"b\"],\"exp\":1700003600}",
                         FAKE_SESSION_SECRET);
    char header[1024];
    snprintf(header, sizeof(header), "Bearer %s", session);
    struct sbr_http_request req = {.authorization = header};
    fake_http("POST", TOKEN_ROUTE, &req);
    ck_assert_int_eq(req.status, 200);
    json_t *obj = json_loads(req.reply, 0, NULL);
    json_t *c = claims_of(json_string_value(json_object_get(obj, "token")));
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "u2");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sid")), "sess2");
    ck_assert_uint_eq(json_array_size(json_object_get(c, "servers")), 2);
    ck_assert_ptr_null(json_object_get(c, "moderates"));
    json_decref(c);
    json_decref(obj);
    free(req.reply);
    free(session);
    ck_assert(fake_metric("superbot_auth_tokens_issued_total", "source=\"session\"") == 1);
}
END_TEST

START_TEST(test_issue_refused)
{
    char *wrong = mint("{\"sub\":\"u2\"}", FAKE_REALTIME_SECRET);
    char *expired = mint("{\"sub\":\"u2\",\"exp\":1600000000}", FAKE_SESSION_SECRET);
    char h1[1024], h2[1024];
    snprintf(h1, sizeof(h1), "Bearer %s", wrong);
    snprintf(h2, sizeof(h2), "Bearer %s", expired);
    const char *headers[] = {NULL, "", "Bearer", "Bearer nope", "Basic Zm9vOmJhcg==", "Bearer wrong-api-key", h1, h2};
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct sbr_http_request req = {.authorization = headers[i], .body = "{\"user_id\":\"u1\"}"};
        fake_http("POST", TOKEN_ROUTE, &req);
        ck_assert_int_eq(req.status, 401);
        ck_assert_str_eq(req.reply, "{\"error\":\"authentication_required\"}");
        free(req.reply);
    }
    free(wrong);
    free(expired);
}
END_TEST

START_TEST(test_connect_refusals)
{
    int verdict;
    const char *reason;
    fake_connect(NULL, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "authentication_required");
    fake_connect("", NULL, "{\"token\":\"\"}", &verdict, &reason);
    ck_assert_str_eq(reason, "authentication_required");
    fake_connect(NULL, NULL, "{\"token\":42}", &verdict, &reason);
    ck_assert_str_eq(reason, "invalid_token");
    fake_connect("garbage", NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "invalid_token");
    /* A session bearer is no realtime token. */
    char *session = mint("{\"sub\":\"u1\",\"exp\":1700003600}", FAKE_SESSION_SECRET);
    fake_connect(session, NULL, NULL, &verdict, &reason);
    ck_assert_str_eq(reason, "invalid_token");
    free(session);
    ck_assert(fake_metric("superbot_auth_connects_refused_total", "reason=\"missing_token\"") == 2);
    ck_assert(fake_metric("superbot_auth_connects_refused_total", "reason=\"malformed\"") == 2);
    ck_assert(fake_metric("superbot_auth_connects_refused_total", "reason=\"bad_signature\"") == 1);
}
END_TEST

START_TEST(test_connect_without_session)
{
    char *token = issue("{\"user_id\":\"u1\",\"servers\":[\"s1\",\"s2\"]}");
    int verdict;
    const char *reason;
    char auth[1024];
    snprintf(auth, sizeof(auth), "{\"token\":\"%s\"}", token);
    sbr_conn_id conn = fake_connect(NULL, NULL, auth, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    const sbr_identity *who = fake_identity(conn);
    ck_assert_str_eq(who->user_id, "u1");
    ck_assert_ptr_null(who->session_id);
    ck_assert_uint_eq(who->n_servers, 2);
    ck_assert_int_eq(who->expires_at, FAKE_NOW_S + 300);
    ck_assert(fake_in_room(conn, "user:u1"));
    ck_assert(fake_in_room(conn, "server:s1"));
    ck_assert(fake_in_room(conn, "server:s2"));
    ck_assert_str_eq(fake_connected(conn), "{\"user_id\":\"u1\",\"servers\":[\"s1\",\"s2\"],\"session_id\":null}");
    free(token);
}
END_TEST

START_TEST(test_connect_session_bearer_header)
{
    char *token = issue("{\"user_id\":\"u1\",\"session_id\":\"sess1\"}");
    char *same = mint("{\"sub\":\"u1\",\"sid\":\"sess1\"}", FAKE_SESSION_SECRET);
    char *other_user = mint("{\"sub\":\"u2\",\"sid\":\"sess1\"}", FAKE_SESSION_SECRET);
    char *other_session = mint("{\"sub\":\"u1\",\"sid\":\"sess9\"}", FAKE_SESSION_SECRET);
    char *forged = mint("{\"sub\":\"u1\",\"sid\":\"sess1\"}", "not-the-session-secret-0123456789");
    char h[1024];
    int verdict;
    const char *reason;

    snprintf(h, sizeof(h), "Bearer %s", same);
    sbr_conn_id conn = fake_connect(token, h, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_flush();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);

    const char *bad[] = {other_user, other_session, forged};
    for (size_t i = 0; i < 3; i++) {
        snprintf(h, sizeof(h), "Bearer %s", bad[i]);
        fake_connect(token, h, NULL, &verdict, &reason);
        ck_assert_int_eq(verdict, SBR_REFUSE);
        ck_assert_str_eq(reason, "invalid_token");
    }
    /* The realtime token itself in the header is no mismatch. */
    snprintf(h, sizeof(h), "Bearer %s", token);
    fake_connect(token, h, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_flush();
    free(token);
    free(same);
    free(other_user);
    free(other_session);
    free(forged);
}
END_TEST

START_TEST(test_revocation)
{
    char *token = issue("{\"user_id\":\"u1\",\"session_id\":\"sess1\"}");
    int verdict;
    const char *reason;
    sbr_conn_id live = fake_connect(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_flush();
    ck_assert_int_eq(fake_resumed(live, &reason), SBR_PASS);
    ck_assert(fake_in_room(live, "session:sess1"));
    ck_assert_str_eq(fake_connected(live), "{\"user_id\":\"u1\",\"servers\":[],\"session_id\":\"sess1\"}");

    struct sbr_http_request unauthorized = {.authorization = "Bearer nope", .sid = "sess1"};
    fake_http("POST", REVOKE_ROUTE, &unauthorized);
    ck_assert_int_eq(unauthorized.status, 401);
    ck_assert_str_eq(unauthorized.reply, "{\"error\":\"unauthorized\"}");
    free(unauthorized.reply);
    struct sbr_http_request bad_sid = {.authorization = "Bearer " FAKE_API_KEY, .sid = "a\nb"};
    fake_http("POST", REVOKE_ROUTE, &bad_sid);
    ck_assert_int_eq(bad_sid.status, 400);
    free(bad_sid.reply);

    struct sbr_http_request req = {.authorization = "Bearer " FAKE_API_KEY, .sid = "sess1"};
    fake_http("POST", REVOKE_ROUTE, &req);
    ck_assert_int_eq(req.status, 0); /* answered once the denylist holds */
    fake_flush();
    ck_assert_int_eq(req.status, 200);
    ck_assert_str_eq(req.reply, "{\"ok\":true,\"revoked\":\"sess1\"}");
    free(req.reply);
    ck_assert_uint_eq(fake_kv_ttl("auth:revoked:sess1"), (300 + 5) * 1000);
    ck_assert_str_eq(fake_disconnected(live), "session revoked");
    ck_assert(fake_metric("superbot_auth_revocations_total", NULL) == 1);

    sbr_conn_id again = fake_connect(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_flush();
    ck_assert_int_eq(fake_resumed(again, &reason), SBR_REFUSE);
    ck_assert_str_eq(reason, "invalid_token");
    ck_assert(fake_metric("superbot_auth_connects_refused_total", "reason=\"revoked\"") == 1);
    free(token);
}
END_TEST

START_TEST(test_denylist_unavailable_fails_open)
{
    char *token = issue("{\"user_id\":\"u1\",\"session_id\":\"sess1\"}");
    fake_bus_fail(1);
    int verdict;
    const char *reason;
    sbr_conn_id conn = fake_connect(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_flush();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    /* A revocation that cannot be stored says so, and still closes sockets. */
    struct sbr_http_request req = {.authorization = "Bearer " FAKE_API_KEY, .sid = "sess1"};
    fake_http("POST", REVOKE_ROUTE, &req);
    fake_flush();
    ck_assert_int_eq(req.status, 503);
    ck_assert_str_eq(fake_disconnected(conn), "session revoked");
    free(req.reply);
    free(token);
}
END_TEST

START_TEST(test_reload)
{
    char *before = issue("{\"user_id\":\"u1\"}");
    /* An empty secret on reload is refused: the old one stays. */
    fake_reload("");
    int verdict;
    const char *reason;
    fake_connect(before, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    /* A new secret takes over: old tokens no longer verify. */
    fake_reload("rotated-realtime-secret-0123456789abcdef");
    fake_connect(before, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "invalid_token");
    struct sbr_http_request req = {.authorization = "Bearer " FAKE_API_KEY, .body = "{\"user_id\":\"u1\"}"};
    fake_http("POST", TOKEN_ROUTE, &req);
    ck_assert_int_eq(req.status, 200);
    json_t *obj = json_loads(req.reply, 0, NULL);
    fake_connect(json_string_value(json_object_get(obj, "token")), NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    json_decref(obj);
    free(req.reply);
    free(before);
}
END_TEST

static Suite *plugin_suite(void)
{
    Suite *s = suite_create("auth_jwt_plugin");
    TCase *load = tcase_create("load");
    tcase_add_test(load, test_refuses_to_start_without_secret);
    suite_add_tcase(s, load);
    TCase *tc = tcase_create("plugin");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_issue_api_key);
    tcase_add_test(tc, test_issue_bad_bodies);
    tcase_add_test(tc, test_issue_session_bearer);
    tcase_add_test(tc, test_issue_refused);
    tcase_add_test(tc, test_connect_refusals);
    tcase_add_test(tc, test_connect_without_session);
    tcase_add_test(tc, test_connect_session_bearer_header);
    tcase_add_test(tc, test_revocation);
    tcase_add_test(tc, test_denylist_unavailable_fails_open);
    tcase_add_test(tc, test_reload);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plugin_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
