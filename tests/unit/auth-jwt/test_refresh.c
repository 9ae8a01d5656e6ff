/* refresh_token through the fake host: a new token of the same user (and
 * session) replaces the connection's expiry and memberships, the
 * differences applied as the server API would; anything else is
 * invalid_token and the connection keeps its old token; a removal holds
 * against a refresh with an older token too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin_fixture.h"

static void setup(void)
{
    ck_assert_int_eq(auth_load_with(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET, NULL), 0);
}

static void teardown(void)
{
    fake_reset();
}

/* refresh_token with {"token": token}; the ack. */
static const char *refresh(sbr_conn_id conn, const char *token)
{
    char args[2048];
    snprintf(args, sizeof(args), "[{\"token\":\"%s\"}]", token);
    return fake_send(conn, "refresh_token", args);
}

static const char *servers_of(sbr_conn_id conn)
{
    static char out[256];
    const sbr_identity *who = fake_identity(conn);
    out[0] = '\0';
    for (size_t i = 0; who && i < who->n_servers; i++) {
        strncat(out, i ? "," : "", sizeof(out) - strlen(out) - 1);
        strncat(out, who->servers[i], sizeof(out) - strlen(out) - 1);
    }
    return out;
}

START_TEST(test_refresh_extends_and_applies_memberships)
{
    char *first = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S, 300);
    sbr_conn_id conn = connect_with(first);
    fake_advance(100 * 1000);
    char *next = realtime_token("u1", NULL, "[\"s2\",\"s3\"]", FAKE_NOW_S + 100, 300);
    ck_assert_str_eq(refresh(conn, next), "{\"ok\":true,\"expires_in\":300}");
    ck_assert_int_eq(fake_identity(conn)->expires_at, FAKE_NOW_S + 400);
    ck_assert_str_eq(servers_of(conn), "s2,s3");
    ck_assert(!fake_in_room(conn, "server:s1"));
    ck_assert(fake_in_room(conn, "server:s3"));
    ck_assert(fake_in_room(conn, "user:u1"));
    ck_assert_str_eq(fake_last(conn, "server_left"), "{\"server_id\":\"s1\"}");
    ck_assert_str_eq(fake_last(conn, "server_joined"), "{\"server_id\":\"s3\"}");
    ck_assert_uint_eq(fake_received(conn, "server_joined"), 1);
    /* The same memberships again: only the expiry moves, nobody is told. */
    fake_advance(1000);
    char *same = realtime_token("u1", NULL, "[\"s3\",\"s2\"]", FAKE_NOW_S + 101, 60);
    ck_assert_str_eq(refresh(conn, same), "{\"ok\":true,\"expires_in\":60}");
    ck_assert_uint_eq(fake_received(conn, "server_joined") + fake_received(conn, "server_left"), 2);
    ck_assert_int_eq(fake_metric("superbot_auth_refreshes_total", "result=\"ok\""), 2);
    free(first);
    free(next);
    free(same);
}
END_TEST

START_TEST(test_refusals_keep_the_old_token)
{
    char *first = realtime_token("u1", "sess1", "[\"s1\"]", FAKE_NOW_S, 300);
    sbr_conn_id conn = connect_with(first);
    char *other_user = realtime_token("u2", "sess1", "[\"s9\"]", FAKE_NOW_S, 300);
    char *other_session = realtime_token("u1", "sess2", "[\"s9\"]", FAKE_NOW_S, 300);
    char *no_session = realtime_token("u1", NULL, "[\"s9\"]", FAKE_NOW_S, 300);
    char *expired = realtime_token("u1", "sess1", "[\"s9\"]", FAKE_NOW_S - 400, 300);
    char *forged = mint("{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"u1\",\"sid\":\"sess1\","
                        "\"iat\":1700000000,\"exp\":1700000300}",
                        "not-the-realtime-secret-0123456789");
    const char *tokens[] = {other_user, other_session, no_session, expired, forged, "garbage", ""};
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++)
        ck_assert_str_eq(refresh(conn, tokens[i]), "{\"ok\":false,\"error\":\"invalid_token\"}");
    const char *bad_args[] = {"[]", "[1]", "[{}]", "[{\"token\":42}]", "[{\"token\":null}]", "[\"tok\"]"};
    for (size_t i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++)
        ck_assert_str_eq(fake_send(conn, "refresh_token", bad_args[i]), "{\"ok\":false,\"error\":\"invalid_token\"}");
    ck_assert_str_eq(servers_of(conn), "s1");
    ck_assert_int_eq(fake_identity(conn)->expires_at, FAKE_NOW_S + 300);
    ck_assert_uint_eq(fake_received(conn, "server_left"), 0);
    ck_assert_int_eq(fake_metric("superbot_auth_refreshes_total", "result=\"invalid_token\""), 13);
    free(first);
    free(other_user);
    free(other_session);
    free(no_session);
    free(expired);
    free(forged);
}
END_TEST

START_TEST(test_sessions)
{
    /* A connection without a session may take one: it joins its room. */
    char *plain = realtime_token("u1", NULL, "[]", FAKE_NOW_S, 300);
    char *with_session = realtime_token("u1", "sess1", "[]", FAKE_NOW_S, 300);
    sbr_conn_id conn = connect_with(plain);
    ck_assert_str_eq(refresh(conn, with_session), "{\"ok\":true,\"expires_in\":300}");
    ck_assert_str_eq(fake_identity(conn)->session_id, "sess1");
    ck_assert(fake_in_room(conn, "session:sess1"));
    /* A revoked session's token is refused, and the socket ended by the revocation. */
    sbr_conn_id other = connect_with(plain);
    ck_assert_int_eq(fake_http("POST", "/api/realtime/sessions/sess1/revoke", NULL, 1, NULL, NULL), 200);
    ck_assert_str_eq(fake_disconnected(conn), "revoked");
    ck_assert_str_eq(refresh(other, with_session), "{\"ok\":false,\"error\":\"invalid_token\"}");
    ck_assert_ptr_null(fake_identity(other)->session_id);
    free(plain);
    free(with_session);
}
END_TEST

START_TEST(test_a_removal_holds_against_a_refresh)
{
    char *first = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S, 300);
    sbr_conn_id conn = connect_with(first);
    ck_assert_int_eq(fake_http("DELETE", "/api/realtime/users/u1/servers/s1", NULL, 1, NULL, NULL), 200);
    ck_assert_str_eq(servers_of(conn), "s2");
    /* The old token still lists s1: refreshing with it does not bring it back. */
    ck_assert_str_eq(refresh(conn, first), "{\"ok\":true,\"expires_in\":300}");
    ck_assert_str_eq(servers_of(conn), "s2");
    ck_assert(!fake_in_room(conn, "server:s1"));
    ck_assert_uint_eq(fake_received(conn, "server_joined"), 0);
    /* A token issued after it does (the backend listed it again). */
    fake_advance(1000);
    char *later = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S + 1, 300);
    ck_assert_str_eq(refresh(conn, later), "{\"ok\":true,\"expires_in\":300}");
    ck_assert_str_eq(servers_of(conn), "s1,s2");
    ck_assert_str_eq(fake_last(conn, "server_joined"), "{\"server_id\":\"s1\"}");
    free(first);
    free(later);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth_jwt_refresh");
    TCase *tc = tcase_create("refresh");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_refresh_extends_and_applies_memberships);
    tcase_add_test(tc, test_refusals_keep_the_old_token);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_a_removal_holds_against_a_refresh);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
