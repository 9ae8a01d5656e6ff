/* Live memberships through the fake host: the PUT and DELETE routes (key,
 * ids, bodies, answers), the change reaching every socket of the user
 * (rooms, server_joined / server_left, moderators) once, the removals that
 * hold against older tokens at connect (and against a connect whose check
 * is under way), a later PUT lifting them, end_when_no_servers, and the
 * shared state failing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin_fixture.h"

#define MEMBER_ROUTE(user, server) "/api/realtime/users/" user "/servers/" server

static void setup(void)
{
    ck_assert_int_eq(auth_load_with(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET, NULL), 0);
}

static void teardown(void)
{
    fake_reset();
}

/* A route call with the API key, run to its answer: the status, *body the answer. */
static int call(const char *method, const char *path, const char *request_body, const char **body)
{
    return fake_http(method, path, request_body, 1, body, NULL);
}

static size_t servers_of(sbr_conn_id conn, char *out, size_t cap)
{
    const sbr_identity *who = fake_identity(conn);
    out[0] = '\0';
    for (size_t i = 0; who && i < who->n_servers; i++) {
        strncat(out, i ? "," : "", cap - strlen(out) - 1);
        strncat(out, who->servers[i], cap - strlen(out) - 1);
    }
    return who ? who->n_servers : 0;
}

static int moderates(sbr_conn_id conn, const char *server)
{
    const sbr_identity *who = fake_identity(conn);
    for (size_t i = 0; who && i < who->n_moderates; i++)
        if (strcmp(who->moderates[i], server) == 0)
            return 1;
    return 0;
}

START_TEST(test_route_key_ids_and_bodies)
{
    const char *body = NULL;
    ck_assert_int_eq(fake_http("PUT", MEMBER_ROUTE("u1", "s1"), NULL, 0, &body, NULL), 401);
    ck_assert_str_eq(body, "{\"error\":\"unauthorized\"}");
    ck_assert_int_eq(fake_http("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, 0, &body, NULL), 401);
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("a\nb", "s1"), NULL, &body), 400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_body");
    ck_assert_ptr_nonnull(strstr(fake_get(body, "detail"), "user_id"));
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s\x01"), NULL, &body), 400);
    ck_assert_ptr_nonnull(strstr(fake_get(body, "detail"), "server_id"));
    char path[512], long_id[202];
    memset(long_id, 'x', 201);
    long_id[201] = '\0';
    snprintf(path, sizeof(path), "/api/realtime/users/u1/servers/%s", long_id);
    ck_assert_int_eq(call("PUT", path, NULL, &body), 400);
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "\xff\xfe"), NULL, &body), 400); /* not UTF-8 */
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s1"), "{nope", &body), 400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_json");
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s1"), "[true]", &body), 400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_body");
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s1"), "{\"moderator\":\"yes\"}", &body), 400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_body");
    ck_assert_int_eq(fake_metric("superbot_auth_membership_changes_total", "change=\"added\""), 0);
    /* Valid: nobody connected, nothing to do, 200 all the same. */
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("nobody", "s1"), "{\"moderator\":null}", &body), 200);
    ck_assert_str_eq(body, "{\"ok\":true,\"user_id\":\"nobody\",\"server_id\":\"s1\",\"member\":true,"
                           "\"moderator\":false}");
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("nobody", "s1"), "ignored", &body), 200);
    ck_assert_str_eq(body, "{\"ok\":true,\"user_id\":\"nobody\",\"server_id\":\"s1\",\"member\":false}");
    ck_assert_int_eq(fake_metric("superbot_auth_membership_changes_total", "change=\"added\""), 1);
    ck_assert_int_eq(fake_metric("superbot_auth_membership_changes_total", "change=\"removed\""), 1);
}
END_TEST

START_TEST(test_every_socket_of_the_user_once)
{
    char *token = realtime_token("u1", NULL, "[\"s1\"]", FAKE_NOW_S, 300);
    char *other_token = realtime_token("u2", NULL, "[\"s1\"]", FAKE_NOW_S, 300);
    sbr_conn_id tab1 = connect_with(token), tab2 = connect_with(token), other = connect_with(other_token);
    char list[256];
    const char *body = NULL;
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s2"), NULL, &body), 200);
    sbr_conn_id tabs[] = {tab1, tab2};
    for (int i = 0; i < 2; i++) {
        ck_assert(fake_in_room(tabs[i], "server:s2"));
        ck_assert_str_eq(fake_last(tabs[i], "server_joined"), "{\"server_id\":\"s2\"}");
        ck_assert_uint_eq(servers_of(tabs[i], list, sizeof(list)), 2);
        ck_assert_str_eq(list, "s1,s2");
        ck_assert(!moderates(tabs[i], "s2"));
    }
    ck_assert(!fake_in_room(other, "server:s2"));
    ck_assert_uint_eq(fake_received(other, "server_joined"), 0);
    /* Again, and as moderator: no second server_joined, the flag follows. */
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s2"), "", &body), 200);
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s2"), "{\"moderator\":true}", &body), 200);
    ck_assert_str_eq(fake_get(body, "moderator"), "true");
    ck_assert_uint_eq(fake_received(tab1, "server_joined"), 1);
    ck_assert(moderates(tab1, "s2") && moderates(tab2, "s2"));
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s2"), "{\"moderator\":false}", &body), 200);
    ck_assert(!moderates(tab1, "s2"));
    /* Removed from the server it connected with: out of its room, told once. */
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, &body), 200);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, &body), 200);
    for (int i = 0; i < 2; i++) {
        ck_assert(!fake_in_room(tabs[i], "server:s1"));
        ck_assert_uint_eq(fake_received(tabs[i], "server_left"), 1);
        ck_assert_str_eq(fake_last(tabs[i], "server_left"), "{\"server_id\":\"s1\"}");
        servers_of(tabs[i], list, sizeof(list));
        ck_assert_str_eq(list, "s2");
        ck_assert_ptr_null(fake_disconnected(tabs[i]));
    }
    ck_assert(fake_in_room(other, "server:s1"));
    free(token);
    free(other_token);
}
END_TEST

START_TEST(test_a_removal_holds_against_older_tokens)
{
    char *old = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S - 10, 300);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, NULL), 200);
    ck_assert_ptr_nonnull(fake_map_value("auth:removed:u1", "s1"));
    /* Reconnecting with the old token: the server is dropped, the connection is not refused. */
    sbr_conn_id again = connect_with(old);
    char list[256];
    servers_of(again, list, sizeof(list));
    ck_assert_str_eq(list, "s2");
    ck_assert(!fake_in_room(again, "server:s1"));
    ck_assert(fake_in_room(again, "server:s2"));
    ck_assert_str_eq(fake_get(fake_last(again, "ready"), "servers"), "[\"s2\"]");
    /* A token of the removal's own second counts as issued before it. */
    char *same_second = realtime_token("u1", NULL, "[\"s1\"]", FAKE_NOW_S, 300);
    servers_of(connect_with(same_second), list, sizeof(list));
    ck_assert_str_eq(list, "");
    /* One issued later may list it (the backend gave it back). */
    fake_advance(2000);
    char *later = realtime_token("u1", NULL, "[\"s1\"]", FAKE_NOW_S + 2, 300);
    servers_of(connect_with(later), list, sizeof(list));
    ck_assert_str_eq(list, "s1");
    /* Another user's token is not touched. */
    char *other = realtime_token("u2", NULL, "[\"s1\"]", FAKE_NOW_S - 10, 300);
    servers_of(connect_with(other), list, sizeof(list));
    ck_assert_str_eq(list, "s1");
    /* A PUT lifts it at once. */
    ck_assert_int_eq(call("PUT", MEMBER_ROUTE("u1", "s1"), NULL, NULL), 200);
    ck_assert_ptr_null(fake_map_value("auth:removed:u1", "s1"));
    servers_of(connect_with(old), list, sizeof(list));
    ck_assert_str_eq(list, "s1,s2");
    /* Otherwise it lasts as long as a token issued before it: ttl + leeway. */
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s2"), NULL, NULL), 200);
    fake_advance((300 + 5) * 1000 - 1);
    ck_assert_ptr_nonnull(fake_map_value("auth:removed:u1", "s2"));
    fake_advance(1);
    ck_assert_ptr_null(fake_map_value("auth:removed:u1", "s2"));
    free(old);
    free(same_second);
    free(later);
    free(other);
}
END_TEST

START_TEST(test_a_removal_during_the_connect_check)
{
    char *token = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S, 300);
    int verdict;
    const char *reason;
    sbr_conn_id conn = fake_open(token, NULL, NULL, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    /* The removal's broadcast overtakes the lookup's answer. */
    fake_deliver("auth.membership", "{\"user_id\":\"u1\",\"server_id\":\"s1\",\"member\":false,\"moderator\":false}");
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    char list[256];
    servers_of(conn, list, sizeof(list));
    ck_assert_str_eq(list, "s2");
    ck_assert(!fake_in_room(conn, "server:s1"));
    /* Messages that are not a change, or not of anyone here, change nothing. */
    const char *junk[] = {"", "nope", "[]", "{\"user_id\":\"u1\"}", "{\"user_id\":\"u1\",\"server_id\":7}",
                          "{\"user_id\":\"u1\",\"server_id\":\"a\\nb\",\"member\":true}",
                          "{\"user_id\":\"u9\",\"server_id\":\"s2\",\"member\":false}"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        fake_deliver("auth.membership", junk[i]);
    servers_of(conn, list, sizeof(list));
    ck_assert_str_eq(list, "s2");
    free(token);
}
END_TEST

START_TEST(test_a_removal_holds_against_a_restored_connection)
{
    /* A recovery restores the identity and rooms of before, then the
     * connect chain runs with the (older) token: the removal made meanwhile
     * is applied as an identity change, which every plugin follows. */
    char *old = realtime_token("u1", NULL, "[\"s7\",\"home\"]", FAKE_NOW_S - 10, 300);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s7"), NULL, NULL), 200);
    int verdict;
    const char *reason;
    sbr_conn_id conn = fake_open_restored(old, "u1", (const char *const[]){"s7", "home", NULL}, &verdict, &reason);
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    char list[256];
    servers_of(conn, list, sizeof(list));
    ck_assert_str_eq(list, "home");
    ck_assert(!fake_in_room(conn, "server:s7"));
    ck_assert(fake_in_room(conn, "server:home"));
    ck_assert_str_eq(fake_last(conn, "server_left"), "{\"server_id\":\"s7\"}");
    ck_assert_str_eq(fake_get(fake_last(conn, "ready"), "servers"), "[\"home\"]");
    free(old);
}
END_TEST

START_TEST(test_a_removal_holds_against_a_recovery_offer)
{
    /* As the core offers a recovery: the old rooms with keep flags, joined
     * after the chain.  The checked token (the removal of s7 applied) keeps
     * only the server rooms it still has; other rooms are not its to judge. */
    char *old = realtime_token("u1", NULL, "[\"s7\",\"home\"]", FAKE_NOW_S - 10, 300);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s7"), NULL, NULL), 200);
    const char *rooms[] = {"user:u1", "server:s7", "server:home", "server:gone", "channel:9"};
    unsigned char keep[5] = {1, 1, 1, 1, 1};
    sbr_recovery offer = {.struct_size = sizeof(offer), .sid = "AAAAAAAAAAAAAAAAAAAAAA", .user_id = "u1",
                          .rooms = rooms, .n_rooms = 5, .keep = keep};
    int verdict;
    const char *reason;
    sbr_conn_id conn = fake_open_recovering(old, NULL, NULL, &offer, 1, &verdict, &reason);
    fake_run();
    ck_assert_int_eq(fake_resumed(conn, &reason), SBR_PASS);
    ck_assert_mem_eq(keep, ((unsigned char[]){1, 0, 1, 0, 1}), 5);
    ck_assert(!fake_in_room(conn, "server:s7"));
    ck_assert_str_eq(fake_last(conn, "ready"),
                     "{\"user_id\":\"u1\",\"servers\":[\"home\"],\"session_id\":null,\"recovered\":true}");
    /* Asked and not recovered: ready says so; never asked: nothing said. */
    unsigned char keep2[5] = {1, 1, 1, 1, 1};
    offer.keep = keep2;
    sbr_conn_id fresh = fake_open_recovering(old, NULL, NULL, &offer, 0, &verdict, &reason);
    fake_run();
    ck_assert_str_eq(fake_get(fake_last(fresh, "ready"), "recovered"), "false");
    sbr_conn_id plain = fake_open(old, NULL, NULL, &verdict, &reason);
    fake_run();
    ck_assert_ptr_null(strstr(fake_last(plain, "ready"), "recovered"));
    free(old);
}
END_TEST

START_TEST(test_end_when_no_servers)
{
    char *one = realtime_token("u1", NULL, "[\"s1\"]", FAKE_NOW_S, 300);
    char *two = realtime_token("u1", NULL, "[\"s1\",\"s2\"]", FAKE_NOW_S, 300);
    /* Off by default: a socket with no server left stays. */
    sbr_conn_id stays = connect_with(one);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, NULL), 200);
    ck_assert_ptr_null(fake_disconnected(stays));
    fake_reset();
    ck_assert_int_eq(auth_load_with(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET,
                                    (const char *const[]){"end_when_no_servers", "true", NULL}),
                     0);
    sbr_conn_id last = connect_with(one), kept = connect_with(two);
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, NULL), 200);
    ck_assert_str_eq(fake_disconnected(last), "removed");
    ck_assert_str_eq(fake_last(last, "disconnect_reason"), "{\"reason\":\"removed\"}");
    ck_assert_ptr_null(fake_disconnected(kept));
    ck_assert_int_eq(fake_metric("superbot_auth_removed_disconnects_total", NULL), 1);
    /* A connect that lost its last server to a removal is not refused nor ended. */
    sbr_conn_id late = connect_with(one);
    ck_assert_ptr_null(fake_disconnected(late));
    free(one);
    free(two);
}
END_TEST

START_TEST(test_shared_state_failing)
{
    char *token = realtime_token("u1", NULL, "[\"s1\"]", FAKE_NOW_S, 300);
    sbr_conn_id conn = connect_with(token);
    fake_bus_fail(1);
    /* Not stored: 503, but the live sockets follow all the same. */
    const char *body = NULL;
    ck_assert_int_eq(call("DELETE", MEMBER_ROUTE("u1", "s1"), NULL, &body), 503);
    ck_assert_str_eq(fake_get(body, "error"), "unavailable");
    ck_assert(!fake_in_room(conn, "server:s1"));
    /* A lookup that fails admits the token as it is (said once). */
    sbr_conn_id again = connect_with(token);
    ck_assert(fake_in_room(again, "server:s1"));
    connect_with(token);
    ck_assert_ptr_nonnull(strstr(fake_log(), "membership removals unavailable"));
    ck_assert_ptr_null(strstr(strstr(fake_log(), "membership removals unavailable") + 1,
                              "membership removals unavailable"));
    fake_bus_fail(0);
    connect_with(token);
    ck_assert_ptr_nonnull(strstr(fake_log(), "membership removals available again"));
    free(token);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth_jwt_membership");
    TCase *tc = tcase_create("membership");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_route_key_ids_and_bodies);
    tcase_add_test(tc, test_every_socket_of_the_user_once);
    tcase_add_test(tc, test_a_removal_holds_against_older_tokens);
    tcase_add_test(tc, test_a_removal_during_the_connect_check);
    tcase_add_test(tc, test_a_removal_holds_against_a_restored_connection);
    tcase_add_test(tc, test_a_removal_holds_against_a_recovery_offer);
    tcase_add_test(tc, test_end_when_no_servers);
    tcase_add_test(tc, test_shared_state_failing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
