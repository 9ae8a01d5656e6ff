/* core/sio/sio_room.c: membership both ways, the encode-once broadcast to
 * local members (except one), and room fan-out as an ordinary bus
 * subscriber: "room:<name>" subscribed with the first local member and
 * dropped with the last, a room emit published to the other workers with
 * the same packet bytes, and packets from them delivered to the members. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "hooks/hooks.h"
#include "sio/sio.h"
#include "sio_fixture.h"

static sbr_plugin *const owner = (sbr_plugin *)0x1;
static sbr_plugin *const provider_owner = (sbr_plugin *)0x2;

static sbr_conn_id conns[4];
static int n_conns;
static char bus_calls[1024]; /* what the provider heard: "sub:t;", "pub:t=data;" */

static int on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_connect *ev = event;
    conns[n_conns++] = ev->conn;
    return SBR_PASS;
}

static void bus_record(const char *what, const char *topic, const char *data, size_t len)
{
    char one[256];
    snprintf(one, sizeof(one), "%s:%s%s%.*s;", what, topic, data ? "=" : "", (int)len, data ? data : "");
    strncat(bus_calls, one, sizeof(bus_calls) - strlen(bus_calls) - 1);
}

static int provider_subscribe(void *ctx, const char *topic)
{
    bus_record("sub", topic, NULL, 0);
    return SBR_OK;
}

static int provider_unsubscribe(void *ctx, const char *topic)
{
    bus_record("unsub", topic, NULL, 0);
    return SBR_OK;
}

static int provider_publish(void *ctx, const char *topic, const char *data, size_t len)
{
    bus_record("pub", topic, data, len);
    return SBR_OK;
}

static const sbr_bus_provider provider = {
    .struct_size = sizeof(sbr_bus_provider),
    .name = "recorder",
    .publish = provider_publish,
    .subscribe = provider_subscribe,
    .unsubscribe = provider_unsubscribe,
};

static char sids[4][64];

static void setup(void)
{
    sio_fixture_start("ping_interval_ms = 60000\nping_timeout_ms = 60000\n");
    n_conns = 0;
    bus_calls[0] = '\0';
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECT, on_connect, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_provide(provider_owner, &provider, NULL), SBR_OK);
    char got[1024];
    for (int i = 0; i < 3; i++) {
        client_open(sids[i]);
        client_post(sids[i], "40");
        ck_assert(client_poll_for(sids[i], "40{", got, sizeof(got)));
    }
    ck_assert_int_eq(n_conns, 3);
}

static void teardown(void)
{
    bus_unregister_all(provider_owner);
    sio_fixture_stop();
}

static void count_member(sbr_conn_id conn, void *userdata)
{
    (*(int *)userdata)++;
}

START_TEST(test_membership)
{
    ck_assert_int_eq(sio_api_room_join(conns[0], "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_room_join(conns[0], "lobby"), SBR_OK); /* twice: once */
    ck_assert_int_eq(sio_api_room_join(conns[1], "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_room_join(conns[1], "other"), SBR_OK);
    ck_assert_int_eq(sio_api_room_contains(conns[0], "lobby"), 1);
    ck_assert_int_eq(sio_api_room_contains(conns[2], "lobby"), 0);
    int members = 0;
    ck_assert_uint_eq(sio_api_room_foreach("lobby", count_member, &members), 2);
    ck_assert_int_eq(members, 2);
    ck_assert_int_eq(sio_api_room_leave(conns[0], "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_room_contains(conns[0], "lobby"), 0);
    ck_assert_int_eq(sio_api_room_contains(conns[1], "lobby"), 1);
    /* Bad names and gone connections. */
    char longest[300];
    memset(longest, 'r', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    ck_assert_int_eq(sio_api_room_join(conns[0], ""), SBR_ERR_INVALID);
    ck_assert_int_eq(sio_api_room_join(conns[0], longest), SBR_ERR_INVALID);
    ck_assert_int_eq(sio_api_room_join(999999, "lobby"), SBR_ERR_GONE);
}
END_TEST

START_TEST(test_bus_interest)
{
    ck_assert_int_eq(sio_api_room_join(conns[0], "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_room_join(conns[1], "lobby"), SBR_OK);
    ck_assert_str_eq(bus_calls, "sub:room:lobby;");
    ck_assert_int_eq(sio_api_room_leave(conns[0], "lobby"), SBR_OK);
    ck_assert_str_eq(bus_calls, "sub:room:lobby;");
    /* The last local member goes: so does the subscription. */
    ck_assert_int_eq(client_post(sids[1], "41"), 200);
    ck_assert_str_eq(bus_calls, "sub:room:lobby;unsub:room:lobby;");
}
END_TEST

START_TEST(test_broadcast)
{
    char got[2048];
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(sio_api_room_join(conns[i], "lobby"), SBR_OK);
    bus_calls[0] = '\0';
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":1}", conns[2], 0), SBR_OK);
    /* The other workers get the same packet bytes, once. */
    ck_assert_str_eq(bus_calls, "pub:room:lobby=42[\"news\",{\"n\":1}];");
    ck_assert(client_poll_for(sids[0], "42[\"news\",{\"n\":1}]", got, sizeof(got)));
    ck_assert(client_poll_for(sids[1], "42[\"news\",{\"n\":1}]", got, sizeof(got)));
    /* The excepted member got nothing: its next packet is a later one. */
    ck_assert_int_eq(sio_api_emit(conns[2], "direct", NULL, 0), SBR_OK);
    ck_assert(client_poll_for(sids[2], "42[\"direct\"]", got, sizeof(got)));
    ck_assert_ptr_null(strstr(got, "news"));
    /* A room nobody here is in still reaches the other workers. */
    bus_calls[0] = '\0';
    ck_assert_int_eq(sio_api_emit_room("empty", "x", NULL, 0, 0), SBR_OK);
    ck_assert_str_eq(bus_calls, "pub:room:empty=42[\"x\"];");
    ck_assert_int_eq(sio_api_emit_room("lobby", "x", "{not json", 0, 0), SBR_ERR_INVALID);
}
END_TEST

START_TEST(test_from_other_workers)
{
    char got[2048];
    ck_assert_int_eq(sio_api_room_join(conns[0], "lobby"), SBR_OK);
    bus_api_deliver("room:lobby", "42[\"remote\",1]", 14);
    ck_assert(client_poll_for(sids[0], "42[\"remote\",1]", got, sizeof(got)));
    /* Not a Socket.IO event packet, or smuggling a separator: dropped. */
    bus_api_deliver("room:lobby", "4x", 2);
    bus_api_deliver("room:lobby", "42[\"a\"]\x1e" "42[\"b\"]", 15);
    bus_api_deliver("room:lobby", "2", 1);
    bus_api_deliver("room:nobody", "42[\"lost\"]", 10);
    ck_assert_int_eq(sio_api_emit(conns[0], "after", NULL, 0), SBR_OK);
    ck_assert(client_poll_for(sids[0], "42[\"after\"]", got, sizeof(got)));
    ck_assert_str_eq(got, "42[\"after\"]\x1e");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sio_room");
    TCase *tc = tcase_create("room");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_membership);
    tcase_add_test(tc, test_bus_interest);
    tcase_add_test(tc, test_broadcast);
    tcase_add_test(tc, test_from_other_workers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
