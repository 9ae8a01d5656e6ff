/* The channels plugin against the fake host: registry, join/leave,
 * send_message, publish. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

static const char *const S7[] = {"7", NULL};
static const char *const S8[] = {"8", NULL};

static void setup(void)
{
    ck_assert_int_eq(fake_load("channels", (const char *const[]){"max_content_length", "10", NULL}), 0);
}

static void teardown(void) { fake_reset(); }

static void put_channel(const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/api/realtime/channels/%s", id);
    ck_assert_int_eq(fake_http("PUT", path, body, 1, NULL, NULL), 200);
}

START_TEST(put_requires_key_and_valid_body)
{
    const char *body = NULL;
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":\"7\"}", 0, &body, NULL), 401);
    ck_assert_str_eq(fake_get(body, "error"), "unauthorized");
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{nope", 1, &body, NULL), 400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_json");
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "[1]", 1, &body, NULL), 400);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"settings\":{\"slow_mode\":5}}", 1, &body, NULL),
                     400);
    ck_assert_str_eq(fake_get(body, "error"), "invalid_body");
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42",
                               "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":21601}}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42",
                               "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":-1}}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42",
                               "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":\"5\"}}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/a:b", "{\"server_id\":\"7\"}", 1, NULL, NULL), 400);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":[]}", 1, NULL, NULL), 400);
    ck_assert_ptr_null(fake_kv_value("channels:42"));
}
END_TEST

START_TEST(put_registers_then_updates)
{
    const char *body = NULL;
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42",
                               "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}", 1, &body, NULL), 200);
    ck_assert_str_eq(fake_get(body, "ok"), "true");
    ck_assert_str_eq(fake_get(body, "channel_id"), "42");
    ck_assert_str_eq(fake_get(body, "server_id"), "7");
    ck_assert_str_eq(fake_get(body, "slow_mode"), "10");
    /* An update may leave out server_id; settings alone change. */
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"settings\":{\"slow_mode\":0}}", 1, &body, NULL),
                     200);
    ck_assert_str_eq(fake_get(body, "server_id"), "7");
    ck_assert_str_eq(fake_get(body, "slow_mode"), "0");
    /* And server_id alone keeps slow_mode; an integer id is accepted. */
    put_channel("42", "{\"settings\":{\"slow_mode\":30}}");
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"server_id\":8}", 1, &body, NULL), 200);
    ck_assert_str_eq(fake_get(body, "server_id"), "8");
    ck_assert_str_eq(fake_get(body, "slow_mode"), "30");
}
END_TEST

START_TEST(join_checks_channel_and_membership)
{
    put_channel("42", "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}");
    sbr_conn_id member = fake_connect("u1", S7, NULL);
    sbr_conn_id stranger = fake_connect("u2", S8, NULL);
    ck_assert_str_eq(fake_get(fake_send(member, "join_channel", "[{\"channel_id\":\"99\"}]"), "error"),
                     "unknown_channel");
    ck_assert_str_eq(fake_get(fake_send(stranger, "join_channel", "[{\"channel_id\":\"42\"}]"), "error"), "forbidden");
    ck_assert(!fake_in_room(stranger, "channel:42"));
    const char *ack = fake_send(member, "join_channel", "[{\"channel_id\":\"42\"}]");
    ck_assert_str_eq(fake_get(ack, "ok"), "true");
    ck_assert_str_eq(fake_get(ack, "slow_mode"), "10");
    ck_assert_str_eq(fake_get(ack, "typing"), "[]");
    ck_assert(fake_in_room(member, "channel:42"));
    ck_assert_str_eq(fake_get(fake_send(member, "leave_channel", "[{\"channel_id\":\"42\"}]"), "ok"), "true");
    ck_assert(!fake_in_room(member, "channel:42"));
    /* Server ids are taken as tokens carry them; channel ids stay plain. */
    put_channel("43", "{\"server_id\":\"team:7 \\u00e9\"}");
    sbr_conn_id other = fake_connect("u3", (const char *const[]){"team:7 \xc3\xa9", NULL}, NULL);
    ck_assert_str_eq(fake_get(fake_send(other, "join_channel", "[{\"channel_id\":\"43\"}]"), "server_id"),
                     "team:7 \xc3\xa9");
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/43", "{\"server_id\":\"a\\u0001\"}", 1, NULL, NULL),
                     400);
}
END_TEST

START_TEST(bad_payloads_get_error_acks)
{
    put_channel("42", "{\"server_id\":\"7\"}");
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    const char *bad[] = {"[]", "[1]", "[\"x\"]", "[{}]", "[{\"channel_id\":{}}]", "[{\"channel_id\":\"\"}]",
                         "[{\"channel_id\":\"a b\"}]", "[null]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_str_eq(fake_get(fake_send(c, "join_channel", bad[i]), "error"), "invalid_payload");
        ck_assert_str_eq(fake_get(fake_send(c, "leave_channel", bad[i]), "error"), "invalid_payload");
        ck_assert_str_eq(fake_get(fake_send(c, "send_message", bad[i]), "error"), "invalid_payload");
    }
    const char *bad_send[] = {
        "[{\"channel_id\":\"42\"}]",
        "[{\"channel_id\":\"42\",\"content\":\"\"}]",
        "[{\"channel_id\":\"42\",\"content\":5}]",
        "[{\"channel_id\":\"42\",\"content\":\"12345678901\"}]",
        "[{\"channel_id\":\"42\",\"content\":\"hi\",\"nonce\":{}}]",
        "[{\"channel_id\":\"42\",\"content\":\"hi\",\"nonce\":[1]}]",
    };
    for (size_t i = 0; i < sizeof bad_send / sizeof *bad_send; i++)
        ck_assert_str_eq(fake_get(fake_send(c, "send_message", bad_send[i]), "error"), "invalid_payload");
    /* Ten characters of two bytes each fit a limit of ten. */
    ck_assert_str_eq(fake_get(fake_send(c, "send_message",
                                        "[{\"channel_id\":\"42\",\"content\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                                        "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}]"),
                              "ok"),
                     "true");
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", "[{\"channel_id\":\"43\",\"content\":\"hi\"}]"), "error"),
                     "unknown_channel");
}
END_TEST

START_TEST(send_reaches_the_room_with_ids)
{
    put_channel("42", "{\"server_id\":\"7\"}");
    sbr_conn_id a = fake_connect("u1", S7, NULL);
    sbr_conn_id b = fake_connect("u2", S7, NULL);
    sbr_conn_id outside = fake_connect("u3", S7, NULL);
    sbr_conn_id stranger = fake_connect("u4", S8, NULL);
    fake_send(a, "join_channel", "[{\"channel_id\":\"42\"}]");
    fake_send(b, "join_channel", "[{\"channel_id\":\"42\"}]");
    const char *ack = fake_send(a, "send_message", "[{\"channel_id\":\"42\",\"content\":\"hello\",\"nonce\":\"n1\"}]");
    ck_assert_str_eq(fake_get(ack, "ok"), "true");
    const char *id1 = fake_get(ack, "id");
    ck_assert_ptr_nonnull(id1);
    ck_assert_str_eq(fake_get(ack, "nonce"), "n1");
    ck_assert_uint_eq(fake_received(a, "message"), 1);
    ck_assert_uint_eq(fake_received(b, "message"), 1);
    ck_assert_uint_eq(fake_received(outside, "message"), 0);
    const char *msg = fake_last(b, "message");
    ck_assert_str_eq(fake_get(msg, "id"), id1);
    ck_assert_str_eq(fake_get(msg, "channel_id"), "42");
    ck_assert_str_eq(fake_get(msg, "user_id"), "u1");
    ck_assert_str_eq(fake_get(msg, "content"), "hello");
    ck_assert_str_eq(fake_get(msg, "nonce"), "n1");
    ck_assert_uint_eq(strtoull(fake_get(msg, "ts"), NULL, 10), fake_now());
    /* A second message in the same millisecond: a larger id. */
    ack = fake_send(a, "send_message", "[{\"channel_id\":\"42\",\"content\":\"again\",\"nonce\":7}]");
    ck_assert_str_eq(fake_get(ack, "nonce"), "7");
    ck_assert_uint_gt(strtoull(fake_get(ack, "id"), NULL, 10), strtoull(id1, NULL, 10));
    fake_advance(5);
    ack = fake_send(b, "send_message", "[{\"channel_id\":\"42\",\"content\":\"later\"}]");
    ck_assert_str_eq(fake_get(ack, "nonce"), "null");
    ck_assert_str_eq(fake_get(fake_last(a, "message"), "user_id"), "u2");
    /* Members of other servers may not post, joined or not. */
    ck_assert_str_eq(fake_get(fake_send(stranger, "send_message", "[{\"channel_id\":\"42\",\"content\":\"x\"}]"),
                              "error"),
                     "forbidden");
}
END_TEST

START_TEST(ids_grow_past_4096_in_one_millisecond)
{
    put_channel("42", "{\"server_id\":\"7\"}");
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    unsigned long long last = 0;
    for (int i = 0; i < 5000; i++) {
        const char *id = fake_get(fake_send(c, "send_message", "[{\"channel_id\":\"42\",\"content\":\"x\"}]"), "id");
        ck_assert_ptr_nonnull(id);
        unsigned long long value = strtoull(id, NULL, 10);
        ck_assert_uint_gt(value, last);
        last = value;
    }
}
END_TEST

/* The worker number of an id (bits 12..21) is one this worker holds. */
static unsigned id_worker(const char *ack)
{
    return (unsigned)((strtoull(fake_get(ack, "id"), NULL, 10) >> 12) & 1023u);
}

/* Reserved, with this worker's identity recorded as its holder. */
static int worker_held(unsigned n)
{
    char key[48], holder[64];
    snprintf(key, sizeof key, "channels:worker:%u", n);
    snprintf(holder, sizeof holder, "channels:worker:%u:holder", n);
    const char *who = fake_kv_value(holder);
    return fake_kv_value(key) != NULL && who && strcmp(who, FAKE_WORKER_ID) == 0;
}

START_TEST(ids_carry_a_held_worker_number)
{
    put_channel("42", "{\"server_id\":\"7\"}");
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    const char *send = "[{\"channel_id\":\"42\",\"content\":\"x\"}]";
    unsigned first = id_worker(fake_send(c, "send_message", send));
    ck_assert(worker_held(first));
    /* Every half claim period a fresh number, taken before the old one expires. */
    fake_advance(30000);
    unsigned second = id_worker(fake_send(c, "send_message", send));
    ck_assert_uint_ne(first, second);
    ck_assert(worker_held(first) && worker_held(second));
    fake_advance(30000);
    ck_assert(!worker_held(first));
    ck_assert(worker_held(id_worker(fake_send(c, "send_message", send))));
}
END_TEST

START_TEST(publish_reaches_exactly_the_room)
{
    sbr_conn_id a = fake_connect("u1", S7, NULL);
    sbr_conn_id b = fake_connect("u2", S8, NULL);
    const char *body = NULL;
    ck_assert_int_eq(fake_http("POST", "/api/realtime/publish",
                               "{\"room\":\"server:7\",\"event\":\"message_created\",\"data\":{\"x\":1}}", 1, &body,
                               NULL),
                     200);
    ck_assert_str_eq(fake_get(body, "ok"), "true");
    ck_assert_str_eq(fake_last(a, "message_created"), "{\"x\":1}");
    ck_assert_uint_eq(fake_received(b, "message_created"), 0);
    ck_assert_int_eq(fake_http("POST", "/api/realtime/publish", "{\"room\":\"server:7\",\"event\":\"x\"}", 0, NULL,
                               NULL),
                     401);
    const char *bad[] = {"{\"event\":\"x\"}", "{\"room\":\"\",\"event\":\"x\"}", "{\"room\":\"r\"}",
                         "{\"room\":\"r\",\"event\":5}", "{\"room\":\"r\",\"event\":\"connect\"}", "[]", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(fake_http("POST", "/api/realtime/publish", bad[i], 1, NULL, NULL), 400);
}
END_TEST

START_TEST(registry_survives_a_backend_outage)
{
    put_channel("42", "{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}");
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", "[{\"channel_id\":\"42\"}]"), "ok"), "true");
    /* Away: the in-process store has no registry; this worker's copy answers. */
    fake_bus_change(SBR_BUS_DOWN, 1);
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", "[{\"channel_id\":\"42\"}]"), "slow_mode"), "10");
    const char *body = NULL;
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/42", "{\"settings\":{\"slow_mode\":5}}", 1, &body,
                               NULL),
                     200);
    ck_assert_str_eq(fake_get(body, "server_id"), "7");
    put_channel("43", "{\"server_id\":\"7\"}");
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", "[{\"channel_id\":\"99\"}]"), "error"),
                     "unknown_channel");
    /* Back, empty: the registry this worker knows is written back. */
    fake_bus_change(SBR_BUS_CONNECTED, 1);
    ck_assert_str_eq(fake_get(fake_kv_value("channels:42"), "slow_mode"), "5");
    ck_assert_str_eq(fake_get(fake_kv_value("channels:43"), "server_id"), "7");
    /* A record changed here while away wins; one another worker changed
     * is not overwritten by this worker's older copy. */
    put_channel("44", "{\"server_id\":\"7\"}");
    put_channel("45", "{\"server_id\":\"7\"}");
    fake_kv_put("channels:45", "{\"server_id\":\"9\",\"slow_mode\":0}");
    fake_bus_change(SBR_BUS_DOWN, 0);
    ck_assert_int_eq(fake_http("PUT", "/api/realtime/channels/44", "{\"server_id\":\"8\"}", 1, NULL, NULL), 200);
    fake_kv_put("channels:44", "{\"server_id\":\"7\",\"slow_mode\":0}");
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    ck_assert_str_eq(fake_get(fake_kv_value("channels:44"), "server_id"), "8");
    ck_assert_str_eq(fake_get(fake_kv_value("channels:45"), "server_id"), "9");
}
END_TEST

START_TEST(leaving_a_server_leaves_its_channels)
{
    static const char *const S78[] = {"7", "8", NULL};
    put_channel("42", "{\"server_id\":\"7\"}");
    put_channel("43", "{\"server_id\":\"7\"}");
    put_channel("80", "{\"server_id\":\"8\"}");
    sbr_conn_id c = fake_connect("u1", S78, NULL);
    sbr_conn_id other = fake_connect("u2", S78, NULL);
    for (const char *const *ch = (const char *const[]){"42", "43", "80", NULL}; *ch; ch++) {
        char args[64];
        snprintf(args, sizeof args, "[{\"channel_id\":\"%s\"}]", *ch);
        ck_assert_str_eq(fake_get(fake_send(c, "join_channel", args), "ok"), "true");
        ck_assert_str_eq(fake_get(fake_send(other, "join_channel", args), "ok"), "true");
    }
    fake_send(c, "leave_channel", "[{\"channel_id\":\"43\"}]");
    /* Removed from 7: out of 42 (and 43, left already), still in 80. */
    ck_assert_int_eq(fake_change_identity(c, S8, NULL), SBR_OK);
    ck_assert(!fake_in_room(c, "channel:42"));
    ck_assert(!fake_in_room(c, "channel:43"));
    ck_assert(fake_in_room(c, "channel:80"));
    ck_assert(fake_in_room(other, "channel:42"));
    /* Its messages no longer reach it, and it may not send there. */
    fake_clear_received();
    fake_send(other, "send_message", "[{\"channel_id\":\"42\",\"content\":\"hi\"}]");
    ck_assert_uint_eq(fake_received(c, "message"), 0);
    ck_assert_str_eq(fake_get(fake_send(c, "send_message", "[{\"channel_id\":\"42\",\"content\":\"hi\"}]"),
                              "error"),
                     "forbidden");
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", "[{\"channel_id\":\"42\"}]"), "error"), "forbidden");
    /* Back in 7 (a later PUT): it may join again, and leaving again works. */
    ck_assert_int_eq(fake_change_identity(c, S78, NULL), SBR_OK);
    ck_assert(!fake_in_room(c, "channel:42"));
    ck_assert_str_eq(fake_get(fake_send(c, "join_channel", "[{\"channel_id\":\"42\"}]"), "ok"), "true");
    ck_assert_int_eq(fake_change_identity(c, NULL, NULL), SBR_OK);
    ck_assert(!fake_in_room(c, "channel:42"));
    ck_assert(!fake_in_room(c, "channel:80"));
    /* A channel re-registered in another server is left with that one. */
    ck_assert_int_eq(fake_change_identity(other, S78, NULL), SBR_OK);
    put_channel("42", "{\"server_id\":\"8\"}");
    fake_send(other, "join_channel", "[{\"channel_id\":\"42\"}]");
    ck_assert_int_eq(fake_change_identity(other, S7, NULL), SBR_OK);
    ck_assert(!fake_in_room(other, "channel:42"));
    fake_disconnect(c);
    fake_disconnect(other);
}
END_TEST

START_TEST(a_recovery_keeps_the_channels_the_identity_allows)
{
    put_channel("42", "{\"server_id\":\"7\"}");
    put_channel("80", "{\"server_id\":\"8\"}");
    const char *rooms[] = {"user:u1", "channel:42", "channel:80", "channel:nope", "channel:bad id"};
    unsigned char keep[5] = {1, 1, 1, 1, 1};
    sbr_recovery offer = {.struct_size = sizeof(offer), .sid = "AAAAAAAAAAAAAAAAAAAAAA", .user_id = "u1",
                          .rooms = rooms, .n_rooms = 5, .keep = keep};
    int verdict;
    const char *reason;
    /* The identity an authenticating plugin set: server 7 only. */
    sbr_conn_id c = fake_open_recovering(NULL, "u1", S7, &offer, 1, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PENDING);
    fake_run();
    ck_assert_int_eq(fake_resumed(c, &reason), SBR_PASS);
    ck_assert_mem_eq(keep, ((unsigned char[]){1, 1, 0, 0, 0}), 5);
    /* The core joins what was kept; the channel is in the plugin's table,
     * so leaving server 7 later leaves it. */
    ck_assert_int_eq(fake_room_join(c, "channel:42"), SBR_OK);
    ck_assert_int_eq(fake_change_identity(c, NULL, NULL), SBR_OK);
    ck_assert(!fake_in_room(c, "channel:42"));
    /* Asked but not recovered: what the offer put in the table goes. */
    unsigned char keep2[5] = {1, 1, 1, 1, 1};
    offer.keep = keep2;
    sbr_conn_id fresh = fake_open_recovering(NULL, "u1", S7, &offer, 0, &verdict, &reason);
    fake_run();
    ck_assert_int_eq(fake_room_join(fresh, "channel:42"), SBR_OK); /* as if joined by hand later */
    ck_assert_int_eq(fake_change_identity(fresh, NULL, NULL), SBR_OK);
    ck_assert(fake_in_room(fresh, "channel:42")); /* not in the table: not left */
    /* No offer: no opinion, at once. */
    sbr_conn_id plain = fake_open_recovering(NULL, "u1", S7, NULL, 0, &verdict, &reason);
    ck_assert_int_eq(verdict, SBR_PASS);
    ck_assert_int_eq(fake_room_join(plain, "channel:42"), SBR_OK);
    ck_assert_int_eq(fake_change_identity(plain, NULL, NULL), SBR_OK);
    ck_assert(fake_in_room(plain, "channel:42")); /* nothing put in the table */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("channels");
    TCase *tc = tcase_create("channels");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, put_requires_key_and_valid_body);
    tcase_add_test(tc, put_registers_then_updates);
    tcase_add_test(tc, join_checks_channel_and_membership);
    tcase_add_test(tc, bad_payloads_get_error_acks);
    tcase_add_test(tc, send_reaches_the_room_with_ids);
    tcase_add_test(tc, ids_grow_past_4096_in_one_millisecond);
    tcase_add_test(tc, ids_carry_a_held_worker_number);
    tcase_add_test(tc, publish_reaches_exactly_the_room);
    tcase_add_test(tc, registry_survives_a_backend_outage);
    tcase_add_test(tc, leaving_a_server_leaves_its_channels);
    tcase_add_test(tc, a_recovery_keeps_the_channels_the_identity_allows);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
