/* The typing plugin (with channels) against the fake host. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

static const char *const S7[] = {"7", NULL};
#define CH "[{\"channel_id\":\"42\"}]"

static sbr_conn_id a, b, c;

static void setup(void)
{
    ck_assert_int_eq(fake_load("typing", (const char *const[]){"ttl_seconds", "2", "rebroadcast_ms", "1000", NULL}),
                     0);
    ck_assert_int_eq(fake_load("channels", NULL), 0);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":\"7\"}", 1, NULL, NULL), 200);
    a = fake_connect("u1", S7, NULL);
    b = fake_connect("u2", S7, NULL);
    c = fake_connect("u3", S7, NULL);
    fake_send(a, "join_channel", CH);
    fake_send(b, "join_channel", CH);
}

static void teardown(void) { fake_reset(); }

START_TEST(start_reaches_the_others_only)
{
    ck_assert_str_eq(fake_get(fake_send(c, "typing_start", CH), "error"), "forbidden");
    ck_assert_str_eq(fake_get(fake_send(a, "typing_start", "[{}]"), "error"), "invalid_payload");
    ck_assert_str_eq(fake_get(fake_send(a, "typing_start", "[]"), "error"), "invalid_payload");
    const char *ack = fake_send(a, "typing_start", CH);
    ck_assert_str_eq(fake_get(ack, "ok"), "true");
    ck_assert_str_eq(fake_get(ack, "expires_in"), "2");
    ck_assert_uint_eq(fake_received(a, "typing_start"), 0);
    ck_assert_uint_eq(fake_received(b, "typing_start"), 1);
    ck_assert_uint_eq(fake_received(c, "typing_start"), 0);
    const char *ev = fake_last(b, "typing_start");
    ck_assert_str_eq(fake_get(ev, "user_id"), "u1");
    ck_assert_str_eq(fake_get(ev, "channel_id"), "42");
    ck_assert_str_eq(fake_get(ev, "expires_in"), "2");
    /* The field names the worker that refreshed it: the core's identity. */
    ck_assert_str_eq(fake_map_value("typing:42", "u1"), FAKE_WORKER_ID);
    /* Who types shows in a join. */
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", CH), "typing"), "[\"u1\"]");
}
END_TEST

START_TEST(repeats_refresh_and_rebroadcast_after_the_window)
{
    fake_send(a, "typing_start", CH);
    fake_advance(500);
    fake_send(a, "typing_start", CH);
    ck_assert_uint_eq(fake_received(b, "typing_start"), 1);
    /* Refreshed at 500 ms: still typing past the first TTL. */
    fake_advance(1900);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    fake_send(a, "typing_start", CH);
    ck_assert_uint_eq(fake_received(b, "typing_start"), 2);
}
END_TEST

START_TEST(expires_after_the_ttl)
{
    fake_send(a, "typing_start", CH);
    fake_advance(1999);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    fake_advance(1);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    ck_assert_uint_eq(fake_received(a, "typing_stop"), 0);
    ck_assert_str_eq(fake_get(fake_last(b, "typing_stop"), "user_id"), "u1");
    ck_assert_ptr_null(fake_map_value("typing:42", "u1"));
    fake_advance(10000);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
}
END_TEST

START_TEST(stop_message_leave_and_disconnect_end_it)
{
    fake_send(a, "typing_start", CH);
    ck_assert_str_eq(fake_get(fake_send(a, "typing_stop", CH), "ok"), "true");
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    /* Not typing: a stop is acknowledged without a broadcast. */
    fake_send(a, "typing_stop", CH);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);

    fake_send(a, "typing_start", CH);
    ck_assert_str_eq(fake_get(fake_send(a, "send_message", "[{\"channel_id\":\"42\",\"content\":\"x\"}]"), "ok"),
                     "true");
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 2);
    ck_assert_uint_eq(fake_received(b, "message"), 1);

    fake_send(a, "typing_start", CH);
    fake_send(a, "leave_channel", CH);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 3);

    fake_send(b, "typing_start", CH);
    fake_disconnect(b);
    ck_assert_uint_eq(fake_received(a, "typing_stop"), 0);
    fake_send(a, "join_channel", CH);
    fake_clear_received();
    fake_send(a, "typing_start", CH);
    fake_disconnect(a);
    ck_assert_ptr_null(fake_map_value("typing:42", "u1"));
    ck_assert_ptr_null(fake_map_value("typing:42", "u2"));
    fake_advance(5000);
}
END_TEST

START_TEST(two_tabs_keep_typing_until_both_go)
{
    sbr_conn_id a2 = fake_connect("u1", S7, NULL);
    fake_send(a2, "join_channel", CH);
    fake_send(a, "typing_start", CH);
    fake_send(a2, "typing_start", CH);
    ck_assert_uint_eq(fake_received(b, "typing_start"), 1);
    fake_disconnect(a);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    fake_disconnect(a2);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
}
END_TEST

#define OTHER_WORKER "ffffffffffffffff"

START_TEST(a_typing_refreshed_on_another_worker_outlives_this_ones)
{
    /* u1 types here, then from a tab on another worker, which refreshes
     * the shared field after this worker did. */
    fake_send(a, "typing_start", CH);
    fake_map_put("typing:42", "u1", OTHER_WORKER, 2000);
    fake_disconnect(a);
    fake_run();
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    ck_assert_str_eq(fake_map_value("typing:42", "u1"), OTHER_WORKER);

    /* Likewise when this worker's TTL passes. */
    sbr_conn_id a2 = fake_connect("u1", S7, NULL);
    fake_send(a2, "join_channel", CH);
    fake_send(a2, "typing_start", CH);
    fake_advance(1500);
    fake_map_put("typing:42", "u1", OTHER_WORKER, 2000);
    fake_advance(600);
    fake_run();
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);

    /* The user's own typing_stop ends it everywhere. */
    fake_send(a2, "typing_start", CH);
    fake_map_put("typing:42", "u1", OTHER_WORKER, 2000);
    ck_assert_str_eq(fake_get(fake_send(a2, "typing_stop", CH), "ok"), "true");
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    ck_assert_ptr_null(fake_map_value("typing:42", "u1"));
}
END_TEST

#define DEAD "deadbeefdeadbeef"

/* Another worker that held typings and died: its last heartbeat now. */
static void dead_worker_typing(void)
{
    char beat[32];
    snprintf(beat, sizeof beat, "%llu", (unsigned long long)fake_now());
    fake_map_put("typing:workers", DEAD, beat, 20000);
    /* zed typed there; yan typed there, then from a live worker since. */
    fake_map_put("typing:by:" DEAD, "42 zed", "1", 20000);
    fake_map_put("typing:42", "zed", DEAD, 2000);
    fake_map_put("typing:by:" DEAD, "42 yan", "1", 20000);
    fake_map_put("typing:42", "yan", OTHER_WORKER, 2000);
}

START_TEST(a_dead_workers_typing_ends_within_the_ttl)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    /* This worker lists what it holds, for the others. */
    fake_send(a, "typing_start", CH);
    const char *self = fake_map_value("typing:42", "u1");
    char list[64];
    snprintf(list, sizeof list, "typing:by:%s", self);
    ck_assert_str_eq(fake_map_value(list, "42 u1"), "1");
    ck_assert_str_eq(fake_get(fake_send(a, "typing_stop", CH), "ok"), "true");
    ck_assert_ptr_null(fake_map_value(list, "42 u1"));
    fake_advance(2100); /* one TTL after reaching the backend */
    fake_clear_received();
    dead_worker_typing();
    fake_advance(1000); /* silent for half the TTL: not yet */
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    fake_advance(400); /* the next beat: dead, its typings end, once */
    fake_run();
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    ck_assert_uint_eq(fake_received(a, "typing_stop"), 1);
    ck_assert_str_eq(fake_get(fake_last(b, "typing_stop"), "user_id"), "zed");
    ck_assert_ptr_null(fake_map_value("typing:42", "zed"));
    ck_assert_str_eq(fake_map_value("typing:42", "yan"), OTHER_WORKER);
    ck_assert_uint_eq(fake_map_count("typing:by:" DEAD), 0);
    ck_assert_ptr_null(fake_map_value("typing:workers", DEAD));
    ck_assert_ptr_nonnull(fake_kv_value("typing:reap:" DEAD));
    fake_advance(2000);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    ck_assert(fake_metric("superbot_typing_orphans_stopped_total", NULL) == 1);
}
END_TEST

START_TEST(no_typing_reaped_while_the_backend_is_away)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_advance(2100);
    fake_clear_received();
    dead_worker_typing();
    fake_bus_change(SBR_BUS_DOWN, 0);
    fake_advance(3000);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    /* Back: the others get a TTL to reconnect and beat first. */
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_advance(1500);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 0);
    fake_advance(1000);
    fake_run();
    /* Both fields expired meanwhile: whoever held yan's may have died
     * too, so both end (a stop more for a user no longer typing is
     * harmless; a stop less leaves an indicator for ever). */
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 2);
    fake_advance(3000);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 2);
}
END_TEST

START_TEST(leaving_the_server_ends_the_typing)
{
    static const char *const S78[] = {"7", "8", NULL};
    static const char *const S8[] = {"8", NULL};
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/80", "{\"server_id\":\"8\"}", 1, NULL, NULL), 200);
    ck_assert_int_eq(fake_change_identity(a, S78, NULL), SBR_OK);
    ck_assert_int_eq(fake_change_identity(b, S78, NULL), SBR_OK);
    fake_send(a, "join_channel", "[{\"channel_id\":\"80\"}]");
    fake_send(b, "join_channel", "[{\"channel_id\":\"80\"}]");
    fake_send(a, "typing_start", CH);
    fake_send(a, "typing_start", "[{\"channel_id\":\"80\"}]");
    fake_clear_received();
    /* u1 leaves server 7: its typing in 42 ends once channels took it out
     * of the room (this turn of the loop), the one in 80 goes on. */
    ck_assert_int_eq(fake_change_identity(a, S8, NULL), SBR_OK);
    fake_advance(0);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 1);
    ck_assert_str_eq(fake_get(fake_last(b, "typing_stop"), "channel_id"), "42");
    ck_assert_ptr_null(fake_map_value("typing:42", "u1"));
    ck_assert_str_eq(fake_map_value("typing:80", "u1"), FAKE_WORKER_ID);
    ck_assert_str_eq(fake_get(fake_send(b, "join_channel", CH), "typing"), "[]");
    /* The one in 80 ends with its own TTL, and 42 is not ended twice. */
    fake_advance(2000);
    ck_assert_uint_eq(fake_received(b, "typing_stop"), 2);
    ck_assert_str_eq(fake_get(fake_last(b, "typing_stop"), "channel_id"), "80");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("typing");
    TCase *tc = tcase_create("typing");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, start_reaches_the_others_only);
    tcase_add_test(tc, a_typing_refreshed_on_another_worker_outlives_this_ones);
    tcase_add_test(tc, repeats_refresh_and_rebroadcast_after_the_window);
    tcase_add_test(tc, expires_after_the_ttl);
    tcase_add_test(tc, stop_message_leave_and_disconnect_end_it);
    tcase_add_test(tc, two_tabs_keep_typing_until_both_go);
    tcase_add_test(tc, a_dead_workers_typing_ends_within_the_ttl);
    tcase_add_test(tc, no_typing_reaped_while_the_backend_is_away);
    tcase_add_test(tc, leaving_the_server_ends_the_typing);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
