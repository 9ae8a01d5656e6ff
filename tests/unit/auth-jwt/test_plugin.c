/* The plugin through a fake host: issuing, connect verdicts, identity and
 * rooms, `ready`, revocation and the denylist, start-up without a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>
#include <jwt.h>

#include "plugin_fixture.h"

#define REVOKE_ROUTE(sid) "/api/realtime/sessions/" sid "/revoke"

/* Load auth-jwt with these secrets on a clock fixed at FAKE_NOW_S. */
static int load(const char *secret, const char *session_secret)
{
    return auth_load_with(secret, session_secret, NULL);
}

static void setup(void)
{
    ck_assert_int_eq(load(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET), 0);
}

static void teardown(void)
{
    fake_reset();
}

START_TEST(test_refuses_to_start_without_secret)
{
    ck_assert_int_ne(load("", ""), 0);
    ck_assert_ptr_nonnull(strstr(fake_error(), "REALTIME_JWT_SECRET"));
    ck_assert_ptr_nonnull(strstr(fake_error(), "SECRET_KEY"));
    ck_assert_str_eq(fake_error_key(), "secret");
    fake_reset();
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
    sbr_http_request *bad_json = fake_request("POST", TOKEN_ROUTE, API_KEY_BEARER, "{nope");
    ck_assert_int_eq(fake_reply_status(bad_json), 400);
    ck_assert_str_eq(fake_reply_body(bad_json), "{\"error\":\"invalid_json\"}");
    sbr_http_request *bad_type = fake_request("POST", TOKEN_ROUTE, API_KEY_BEARER, "{\"user_id\":[1]}");
    ck_assert_int_eq(fake_reply_status(bad_type), 400);
    ck_assert_str_eq(fake_reply_body(bad_type), "{\"error\":\"invalid_body\"}");
}
END_TEST

START_TEST(test_issue_session_bearer)
{
    char *session = mint("{\"sub\":\"u2\",\"sid\":\"sess2\",\"servers\":[\"a\",\"b\"],\"exp\":1700003600}",
                         FAKE_SESSION_SECRET);
    char header[1024];
    snprintf(header, sizeof(header), "Bearer %s", session);
    sbr_http_request *req = fake_request("POST", TOKEN_ROUTE, header, NULL);
    ck_assert_int_eq(fake_reply_status(req), 200);
    json_t *obj = json_loads(fake_reply_body(req), 0, NULL);
    json_t *c = claims_of(json_string_value(json_object_get(obj, "token")));
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "u2");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sid")), "sess2");
    ck_assert_uint_eq(json_array_size(json_object_get(c, "servers")), 2);
    ck_assert_ptr_null(json_object_get(c, "moderates"));
    json_decref(c);
    json_decref(obj);
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
        sbr_http_request *req = fake_request("POST", TOKEN_ROUTE, headers[i], "{\"user_id\":\"u1\"}");
        ck_assert_int_eq(fake_reply_status(req), 401);
        ck_assert_str_eq(fake_reply_body(req), "{\"error\":\"authentication_required\"}");
    }
    free(wrong);
    free(expired);
}
END_TEST

START_TEST(test_connect_refusals)
{
    int verdict;
    const char *reason;
    fake_open(NULL, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "authentication_required");
    fake_open("", NULL, "{\"token\":\"\"}", &verdict, &reason);
    ck_assert_str_eq(reason, "authentication_required");
    fake_open(NULL, NULL, "{\"token\":42}", &verdict, &reason);
    ck_assert_str_eq(reason, "invalid_token");
    fake_open("garbage", NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "invalid_token");
    /* A session bearer is no realtime token. */
    char *session = mint("{\"sub\":\"u1\",\"exp\":1700003600}", FAKE_SESSION_SECRET);
    fake_open(session, NULL, NULL, &verdict, &reason);
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
    sbr_conn_id conn = fake_open(NULL, NULL, auth, &verdict, &reason);
    /* Servers listed: the user's removals are asked first. */
    ck_assert_int_eq(verdict, SBR_PENDING);
    ck_assert_ptr_null(fake_identity(conn));
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    const sbr_identity *who = fake_identity(conn);
    ck_assert_str_eq(who->user_id, "u1");
    ck_assert_ptr_null(who->session_id);
    ck_assert_uint_eq(who->n_servers, 2);
    ck_assert_int_eq(who->expires_at, FAKE_NOW_S + 300);
    ck_assert(fake_in_room(conn, "user:u1"));
    ck_assert(fake_in_room(conn, "server:s1"));
    ck_assert(fake_in_room(conn, "server:s2"));
    ck_assert_str_eq(fake_last(conn, "ready"), "{\"user_id\":\"u1\",\"servers\":[\"s1\",\"s2\"],\"session_id\":null}");
    free(token);
}
END_TEST

START_TEST(test_connect_session_bearer_header)
{
    char *token = issue("{\"user_id\":\"u1\",\"session_id\":\"sess1\"}");
    char *same = mint("{\"sub\":\"u1\",\"sid\":\"sess1\",\"exp\":1700003600}", FAKE_SESSION_SECRET);
    char *other_user = mint("{\"sub\":\"u2\",\"sid\":\"sess1\",\"exp\":1700003600}", FAKE_SESSION_SECRET);
    char *other_session = mint("{\"sub\":\"u1\",\"sid\":\"sess9\",\"exp\":1700003600}", FAKE_SESSION_SECRET);
    char *forged = mint("{\"sub\":\"u1\",\"sid\":\"sess1\",\"exp\":1700003600}", "not-the-session-secret-0123456789");
    /* session_require_exp: a bearer without exp is no credential. */
    char *no_exp = mint("{\"sub\":\"u1\",\"sid\":\"sess1\"}", FAKE_SESSION_SECRET);
    char h[1024];
    int verdict;
    const char *reason;

    snprintf(h, sizeof(h), "Bearer %s", same);
    sbr_conn_id conn = fake_open(token, h, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);

    const char *bad[] = {other_user, other_session, forged, no_exp};
    for (size_t i = 0; i < 4; i++) {
        snprintf(h, sizeof(h), "Bearer %s", bad[i]);
        fake_open(token, h, NULL, &verdict, &reason);
        ck_assert_int_eq(verdict, SBR_REFUSE);
        ck_assert_str_eq(reason, "invalid_token");
    }
    /* The realtime token itself in the header is no mismatch. */
    snprintf(h, sizeof(h), "Bearer %s", token);
    fake_open(token, h, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
    free(token);
    free(same);
    free(other_user);
    free(other_session);
    free(forged);
    free(no_exp);
}
END_TEST

START_TEST(test_revocation)
{
    char *token = issue("{\"user_id\":\"u1\",\"session_id\":\"sess1\"}");
    int verdict;
    const char *reason;
    sbr_conn_id live = fake_open(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
    ck_assert_int_eq(fake_resumed(live, &reason), SBR_PASS);
    ck_assert(fake_in_room(live, "session:sess1"));
    ck_assert_str_eq(fake_last(live, "ready"), "{\"user_id\":\"u1\",\"servers\":[],\"session_id\":\"sess1\"}");

    sbr_http_request *unauthorized = fake_request("POST", REVOKE_ROUTE("sess1"), "Bearer nope", NULL);
    ck_assert_int_eq(fake_reply_status(unauthorized), 401);
    ck_assert_str_eq(fake_reply_body(unauthorized), "{\"error\":\"unauthorized\"}");
    sbr_http_request *bad_sid = fake_request("POST", REVOKE_ROUTE("a\nb"), API_KEY_BEARER, NULL);
    ck_assert_int_eq(fake_reply_status(bad_sid), 400);

    sbr_http_request *req = fake_request("POST", REVOKE_ROUTE("sess1"), API_KEY_BEARER, NULL);
    ck_assert_int_eq(fake_reply_status(req), 0); /* answered once the denylist holds */
    fake_run();
    ck_assert_int_eq(fake_reply_status(req), 200);
    ck_assert_str_eq(fake_reply_body(req), "{\"ok\":true,\"revoked\":\"sess1\"}");
    ck_assert_uint_eq(fake_kv_ttl("auth:revoked:sess1"), (300 + 5) * 1000);
    ck_assert_str_eq(fake_disconnected(live), "revoked");
    ck_assert_str_eq(fake_last(live, "disconnect_reason"), "{\"reason\":\"revoked\"}");
    ck_assert(fake_metric("superbot_auth_revocations_total", NULL) == 1);

    sbr_conn_id again = fake_open(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
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
    sbr_conn_id conn = fake_open(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    /* A revocation that cannot be stored says so, and still closes sockets. */
    sbr_http_request *req = fake_request("POST", REVOKE_ROUTE("sess1"), API_KEY_BEARER, NULL);
    fake_run();
    ck_assert_int_eq(fake_reply_status(req), 503);
    ck_assert_str_eq(fake_disconnected(conn), "revoked");
    free(token);
}
END_TEST

START_TEST(test_reload)
{
    char *before = issue("{\"user_id\":\"u1\"}");
    /* An empty secret on reload is refused: the old one stays. */
    fake_reload((const char *const[]){"secret", "", NULL});
    int verdict;
    const char *reason;
    fake_open(before, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    /* A new secret takes over: old tokens no longer verify. */
    fake_reload((const char *const[]){"secret", "rotated-realtime-secret-0123456789abcdef", NULL});
    fake_open(before, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_REFUSE);
    ck_assert_str_eq(reason, "invalid_token");
    sbr_http_request *req = fake_request("POST", TOKEN_ROUTE, API_KEY_BEARER, "{\"user_id\":\"u1\"}");
    ck_assert_int_eq(fake_reply_status(req), 200);
    json_t *obj = json_loads(fake_reply_body(req), 0, NULL);
    fake_open(json_string_value(json_object_get(obj, "token")), NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    json_decref(obj);
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
