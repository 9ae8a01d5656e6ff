/* The slowmode plugin (with channels) against the fake host. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

static const char *const S7[] = {"7", NULL};
static const char *const S8[] = {"8", NULL};
static const char *const SEND[] = {"[{\"channel_id\":\"42\",\"content\":\"hi\"}]"};

static void put_channel(const char *body)
{
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", body, 1, NULL, NULL), 200);
}

static void setup(void)
{
    ck_assert_int_eq(fake_load("slowmode", NULL), 0);
    ck_assert_int_eq(fake_load("channels", NULL), 0);
    put_channel("{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}");
}

static void teardown(void) { fake_reset(); }

START_TEST(second_message_waits_with_retry_after)
{
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    fake_advance(4200);
    const char *ack = fake_send(c, "send_message", SEND[0]);
    ck_assert_str_eq(fake_get(ack, "ok"), "false");
    ck_assert_str_eq(fake_get(ack, "error"), "slow_mode");
    ck_assert_str_eq(fake_get(ack, "status"), "429");
    ck_assert_str_eq(fake_get(ack, "retry_after"), "5.8");
    /* Another user has their own slot. */
    sbr_conn_id other = fake_connect("u2", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(other, "send_message", SEND[0]), "ok"), "true");
    fake_advance(5800);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
}
END_TEST

START_TEST(moderators_and_zero_are_exempt)
{
    sbr_conn_id mod = fake_connect("m1", S7, S7);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(fake_get(fake_send(mod, "send_message", SEND[0]), "ok"), "true");
    /* Moderating another server does not count. */
    sbr_conn_id c = fake_connect("u1", S7, S8);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "error"), "slow_mode");
    put_channel("{\"settings\":{\"slow_mode\":0}}");
    sbr_conn_id d = fake_connect("u3", S7, NULL);
    for (int i = 0; i < 3; i++)
        ck_assert_str_eq(fake_get(fake_send(d, "send_message", SEND[0]), "ok"), "true");
}
END_TEST

START_TEST(errors_before_using_a_slot)
{
    sbr_conn_id stranger = fake_connect("u9", S8, NULL);
    ck_assert_str_eq(fake_get(fake_send(stranger, "send_message", SEND[0]), "error"), "forbidden");
    ck_assert_ptr_null(fake_kv_value("slowmode:42:u9"));
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", "[{\"channel_id\":\"42\",\"content\":\"\"}]"), "error"),
                     "invalid_payload");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", "[{\"channel_id\":\"43\",\"content\":\"x\"}]"), "error"),
                     "unknown_channel");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", "[5]"), "error"), "invalid_payload");
    ck_assert_ptr_null(fake_kv_value("slowmode:42:u1"));
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
}
END_TEST

START_TEST(a_new_slow_mode_applies_to_the_next_reservation)
{
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    put_channel("{\"settings\":{\"slow_mode\":2}}");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "retry_after"), "2.0");
    put_channel("{\"settings\":{\"slow_mode\":60}}");
    fake_advance(2000);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "retry_after"), "60.0");
}
END_TEST

START_TEST(http_reserve)
{
    const char *body = NULL, *headers = NULL;
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/42/reserve", "{\"user_id\":\"u1\"}", 0, &body, NULL),
                     401);
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/42/reserve", "{\"user_id\":\"u1\"}", 1, &body, NULL),
                     200);
    ck_assert_str_eq(fake_get(body, "ok"), "true");
    fake_advance(4800);
    ck_assert_int_eq(
        fake_http("POST", "/api/realtime/channels/42/reserve", "{\"user_id\":\"u1\"}", 1, &body, &headers), 429);
    ck_assert_str_eq(fake_get(body, "error"), "slow_mode");
    ck_assert_str_eq(fake_get(body, "retry_after"), "5.2");
    ck_assert_str_eq(headers, "Retry-After: 6");
    /* The socket and the API share the slot. */
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "error"), "slow_mode");
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/43/reserve", "{\"user_id\":\"u1\"}", 1, &body, NULL),
                     404);
    ck_assert_str_eq(fake_get(body, "error"), "unknown_channel");
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/42/reserve", "{}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/42/reserve", "{\"user_id\":[]}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("POST", "/api/realtime/channels/42/reserve", "x", 1, NULL, NULL), 400);
}
END_TEST

START_TEST(outage_keeps_channels_known)
{
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    fake_bus_change(SBR_BUS_DOWN, 1);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "ok"), "true");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", SEND[0]), "error"), "slow_mode");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slowmode");
    TCase *tc = tcase_create("slowmode");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, second_message_waits_with_retry_after);
    tcase_add_test(tc, moderators_and_zero_are_exempt);
    tcase_add_test(tc, errors_before_using_a_slot);
    tcase_add_test(tc, a_new_slow_mode_applies_to_the_next_reservation);
    tcase_add_test(tc, http_reserve);
    tcase_add_test(tc, outage_keeps_channels_known);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
