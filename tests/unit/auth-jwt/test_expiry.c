/* Token expiry through the fake host: with expire_connections, a socket
 * whose token expired plus leeway without a refresh ends with
 * disconnect_reason token_expired, in order of expiry, on one timer; a
 * refresh moves its end; off by default; a reload turning it on covers the
 * sockets already open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plugin_fixture.h"

static void load_expiring(void)
{
    ck_assert_int_eq(auth_load_with(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET,
                                    (const char *const[]){"expire_connections", "true", NULL}),
                     0);
}

static void teardown(void)
{
    fake_reset();
}

/* The clock starts at FAKE_NOW_S + 250 ms; the default leeway is 5 s. */
static void advance_to(int64_t unix_ms)
{
    fake_advance((uint64_t)(unix_ms - (int64_t)fake_now()));
}

START_TEST(test_ends_at_expiry_plus_leeway_in_order)
{
    load_expiring();
    char *short_token = realtime_token("u1", NULL, "[]", FAKE_NOW_S, 3);
    char *longer = realtime_token("u2", NULL, "[]", FAKE_NOW_S, 10);
    sbr_conn_id late = connect_with(longer), early = connect_with(short_token);
    /* One timer for both, armed for the earliest. */
    ck_assert_int_eq(fake_active_timers(), 1);
    advance_to((FAKE_NOW_S + 3 + 5) * 1000LL - 1);
    ck_assert_ptr_null(fake_disconnected(early));
    advance_to((FAKE_NOW_S + 3 + 5) * 1000LL);
    ck_assert_str_eq(fake_disconnected(early), "token_expired");
    ck_assert_str_eq(fake_last(early, "disconnect_reason"), "{\"reason\":\"token_expired\"}");
    ck_assert_ptr_null(fake_disconnected(late));
    advance_to((FAKE_NOW_S + 10 + 5) * 1000LL);
    ck_assert_str_eq(fake_disconnected(late), "token_expired");
    ck_assert_int_eq(fake_metric("superbot_auth_expired_total", NULL), 2);
    ck_assert_int_eq(fake_active_timers(), 0);
    free(short_token);
    free(longer);
}
END_TEST

START_TEST(test_a_refresh_moves_the_end)
{
    load_expiring();
    char *first = realtime_token("u1", NULL, "[]", FAKE_NOW_S, 3);
    sbr_conn_id conn = connect_with(first);
    advance_to((FAKE_NOW_S + 2) * 1000LL);
    char *next = realtime_token("u1", NULL, "[]", FAKE_NOW_S + 2, 3);
    char args[2048];
    snprintf(args, sizeof(args), "[{\"token\":\"%s\"}]", next);
    ck_assert_str_eq(fake_get(fake_send(conn, "refresh_token", args), "ok"), "true");
    advance_to((FAKE_NOW_S + 3 + 5) * 1000LL + 10);
    ck_assert_ptr_null(fake_disconnected(conn));
    advance_to((FAKE_NOW_S + 5 + 5) * 1000LL);
    ck_assert_str_eq(fake_disconnected(conn), "token_expired");
    free(first);
    free(next);
}
END_TEST

START_TEST(test_gone_connections_leave_the_heap)
{
    load_expiring();
    char *token = realtime_token("u1", NULL, "[]", FAKE_NOW_S, 3);
    sbr_conn_id conns[50];
    for (int i = 0; i < 50; i++)
        conns[i] = connect_with(token);
    for (int i = 0; i < 50; i++)
        fake_disconnect(conns[i]);
    ck_assert_int_eq(fake_active_timers(), 0);
    advance_to((FAKE_NOW_S + 60) * 1000LL);
    ck_assert_int_eq(fake_metric("superbot_auth_expired_total", NULL), 0);
    free(token);
}
END_TEST

START_TEST(test_off_by_default_and_reload)
{
    ck_assert_int_eq(auth_load_with(FAKE_REALTIME_SECRET, FAKE_SESSION_SECRET, NULL), 0);
    char *token = realtime_token("u1", NULL, "[]", FAKE_NOW_S, 3);
    sbr_conn_id conn = connect_with(token);
    ck_assert_int_eq(fake_active_timers(), 0);
    advance_to((FAKE_NOW_S + 60) * 1000LL);
    ck_assert_ptr_null(fake_disconnected(conn));
    /* Turned on: the sockets open already are covered, the expired ones end now. */
    fake_reload((const char *const[]){"expire_connections", "true", NULL});
    fake_advance(0);
    ck_assert_str_eq(fake_disconnected(conn), "token_expired");
    /* And off again: nothing ends. */
    sbr_conn_id later = connect_with(token = (free(token), realtime_token("u1", NULL, "[]", FAKE_NOW_S + 60, 3)));
    fake_reload((const char *const[]){"expire_connections", "false", NULL});
    advance_to((FAKE_NOW_S + 120) * 1000LL);
    ck_assert_ptr_null(fake_disconnected(later));
    free(token);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth_jwt_expiry");
    TCase *tc = tcase_create("expiry");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_ends_at_expiry_plus_leeway_in_order);
    tcase_add_test(tc, test_a_refresh_moves_the_end);
    tcase_add_test(tc, test_gone_connections_leave_the_heap);
    tcase_add_test(tc, test_off_by_default_and_reload);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
