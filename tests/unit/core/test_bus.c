/* core/bus.c: routing to the provider, topic interest counted once per
 * topic, the core's "room:" topics refused to plugins, local delivery on
 * the next loop turn, publishing to the other workers only, and state
 * changes reaching the listener and /healthz names. */
#include <check.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

static struct event_base *test_base;

/* A core subscriber, as Socket.IO's rooms are. */
static char room_seen[64], room_packet[64];

static void on_room(const char *topic, const char *packet, size_t len, void *ud)
{
    snprintf(room_seen, sizeof(room_seen), "%s", topic);
    snprintf(room_packet, sizeof(room_packet), "%.*s", (int)len, packet);
}

static int state_events, state_seen, state_previous;

static void on_state(int state, int previous, const char *detail)
{
    state_events++;
    state_seen = state;
    state_previous = previous;
}

/* --- a recording provider -------------------------------------------------- */

static char calls[512];

static void record(const char *what, const char *arg)
{
    strncat(calls, what, sizeof(calls) - strlen(calls) - 1);
    strncat(calls, arg, sizeof(calls) - strlen(calls) - 1);
    strncat(calls, ";", sizeof(calls) - strlen(calls) - 1);
}

static int fake_subscribe(void *ctx, const char *topic)
{
    record("sub:", topic);
    return SBR_OK;
}

static int fake_unsubscribe(void *ctx, const char *topic)
{
    record("unsub:", topic);
    return SBR_OK;
}

static int fake_publish(void *ctx, const char *topic, const char *data, size_t len)
{
    record("pub:", topic);
    return SBR_OK;
}

static int fake_reserve(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *ud)
{
    record("reserve:", key);
    return SBR_OK;
}

static void fake_room_log_on(void *ctx)
{
    record("room_log_on", "");
}

static const sbr_bus_provider provider = {
    .struct_size = sizeof(sbr_bus_provider),
    .name = "fake",
    .reserve = fake_reserve,
    .publish = fake_publish,
    .subscribe = fake_subscribe,
    .unsubscribe = fake_unsubscribe,
};

static sbr_bus_provider provider_with_log;

static sbr_plugin *const owner = (sbr_plugin *)0x10;
static sbr_plugin *const bus_owner = (sbr_plugin *)0x20;

static int delivered;
static char last_data[64];

static void on_message(const char *topic, const char *data, size_t len, void *ud)
{
    delivered++;
    snprintf(last_data, sizeof(last_data), "%.*s", (int)len, data);
}

static void done_never(const sbr_state_reply *reply, void *ud)
{
    ck_abort_msg("done called without a provider");
}

static void setup(void)
{
    test_base = event_base_new();
    ck_assert_int_eq(bus_init(test_base, on_state), 0);
    calls[0] = room_seen[0] = last_data[0] = '\0';
    delivered = 0;
    state_events = 0;
}

static void teardown(void)
{
    bus_unregister_all(owner);
    bus_unregister_all(bus_owner);
    bus_free();
    event_base_free(test_base);
    test_base = NULL;
}

START_TEST(test_without_provider)
{
    ck_assert_int_eq(bus_state_get(), SBR_BUS_LOCAL);
    ck_assert_str_eq(bus_state_name(), "disabled");
    ck_assert_int_eq(bus_api_kv_get("k", done_never, NULL), SBR_ERR_UNAVAILABLE);
    ck_assert_int_eq(bus_api_reserve("k", 10, done_never, NULL), SBR_ERR_UNAVAILABLE);
    ck_assert_int_eq(bus_api_map_count("k", done_never, NULL), SBR_ERR_UNAVAILABLE);
    ck_assert_int_eq(bus_api_kv_get(NULL, done_never, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(bus_api_kv_get("k", NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(bus_api_subscribe(owner, "t", on_message, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_publish("t", "hello", 5), SBR_OK);
    /* Never inside the publish call: on the next loop turn. */
    ck_assert_int_eq(delivered, 0);
    event_base_loop(test_base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(delivered, 1);
    ck_assert_str_eq(last_data, "hello");
    ck_assert_int_eq(bus_api_publish("", "x", 1), SBR_ERR_INVALID);
    ck_assert_int_eq(bus_api_publish("t", NULL, 3), SBR_ERR_INVALID);
    /* One worker: nobody else to reach, and this one is not served twice. */
    ck_assert_int_eq(bus_publish_others("room:lobby", "42[]", 4), SBR_OK);
    event_base_loop(test_base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(delivered, 1);
}
END_TEST

START_TEST(test_core_topics_refused_to_plugins)
{
    ck_assert_int_eq(bus_api_subscribe(owner, "room:lobby", on_message, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(bus_api_publish("room:lobby", "42[]", 4), SBR_ERR_INVALID);
    ck_assert_int_eq(bus_api_subscribe(owner, "roomy", on_message, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_publish("roomy", "x", 1), SBR_OK);
    /* The core itself subscribes to them. */
    ck_assert_int_eq(bus_subscribe(NULL, "room:lobby", on_room, NULL), SBR_OK);
    bus_api_deliver("room:lobby", "42[\"y\"]", 7);
    ck_assert_str_eq(room_seen, "room:lobby");
    ck_assert_str_eq(room_packet, "42[\"y\"]");
    bus_unsubscribe(NULL, "room:lobby", on_room, NULL);
    room_seen[0] = '\0';
    bus_api_deliver("room:lobby", "42[]", 4);
    ck_assert_str_eq(room_seen, "");
}
END_TEST

START_TEST(test_provider_routing_and_interest)
{
    ck_assert_int_eq(bus_api_subscribe(owner, "early", on_message, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider, NULL), SBR_ERR_STATE);
    /* Topics wanted before the provider came are handed to it. */
    ck_assert_str_eq(calls, "sub:early;");
    calls[0] = '\0';
    ck_assert_int_eq(bus_api_subscribe(owner, "t", on_message, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_subscribe(owner, "t", on_message, NULL), SBR_OK);
    ck_assert_int_eq(bus_subscribe(NULL, "room:lobby", on_room, NULL), SBR_OK);
    bus_unsubscribe(NULL, "room:lobby", on_room, NULL);
    ck_assert_int_eq(bus_subscribe(NULL, "room:lobby", on_room, NULL), SBR_OK);
    ck_assert_str_eq(calls, "sub:t;sub:room:lobby;unsub:room:lobby;sub:room:lobby;");
    calls[0] = '\0';
    ck_assert_int_eq(bus_api_reserve("slot", 100, done_never, NULL), SBR_OK);
    ck_assert_int_eq(bus_api_kv_get("k", done_never, NULL), SBR_ERR_UNAVAILABLE); /* the provider offers no kv_get */
    ck_assert_int_eq(bus_publish_others("room:lobby", "42[\"x\"]", 7), SBR_OK);
    ck_assert_int_eq(bus_api_publish("t", "m", 1), SBR_OK);
    ck_assert_str_eq(calls, "reserve:slot;pub:room:lobby;pub:t;");
    event_base_loop(test_base, EVLOOP_NONBLOCK);
    ck_assert_int_eq(delivered, 2); /* two subscriptions of this worker */
    ck_assert_str_eq(room_seen, ""); /* publish_others skips this worker */
    /* From another worker: plugin topics at once, rooms to the room. */
    bus_api_deliver("t", "remote", 6);
    ck_assert_int_eq(delivered, 4);
    ck_assert_str_eq(last_data, "remote");
    bus_api_deliver("room:lobby", "42[\"y\"]", 7);
    ck_assert_str_eq(room_seen, "room:lobby");
    ck_assert_str_eq(room_packet, "42[\"y\"]");
    calls[0] = '\0';
    bus_unsubscribe(NULL, "room:lobby", on_room, NULL);
    ck_assert_str_eq(calls, "unsub:room:lobby;");
    calls[0] = '\0';
    bus_unregister_all(owner);
    ck_assert_ptr_nonnull(strstr(calls, "unsub:t;"));
    ck_assert_ptr_nonnull(strstr(calls, "unsub:early;"));
    bus_unregister_all(bus_owner);
    ck_assert_int_eq(bus_api_reserve("slot", 100, done_never, NULL), SBR_ERR_UNAVAILABLE);
}
END_TEST

START_TEST(test_state_changes)
{
    bus_api_set_state(SBR_BUS_CONNECTED, "redis://h:1");
    ck_assert_str_eq(bus_state_name(), "connected");
    bus_api_set_state(SBR_BUS_CONNECTED, NULL);
    ck_assert_int_eq(state_events, 1);
    bus_api_set_state(SBR_BUS_DOWN, "connection refused");
    ck_assert_str_eq(bus_state_name(), "down");
    ck_assert_int_eq(state_events, 2);
    ck_assert_int_eq(state_seen, SBR_BUS_DOWN);
    ck_assert_int_eq(state_previous, SBR_BUS_CONNECTED);
    bus_api_set_state((enum sbr_bus_state)7, NULL);
    ck_assert_int_eq(state_events, 2);
    bus_api_set_state(SBR_BUS_LOCAL, NULL);
    ck_assert_int_eq(state_events, 3);
    ck_assert_int_eq(state_seen, SBR_BUS_LOCAL);
}
END_TEST

START_TEST(test_provider_health)
{
    /* Only the provider speaks for the backend on /healthz. */
    ck_assert_int_eq(bus_set_health(bus_owner, "{\"bus_mode\":\"single\"}"), SBR_ERR_STATE);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider, NULL), SBR_OK);
    ck_assert_int_eq(bus_set_health(owner, "{}"), SBR_ERR_STATE);
    ck_assert_ptr_null(bus_health());
    ck_assert_int_eq(bus_set_health(bus_owner, "{\"bus_mode\":\"cluster\"}"), SBR_OK);
    ck_assert_str_eq(bus_health(), "{\"bus_mode\":\"cluster\"}");
    ck_assert_int_eq(bus_set_health(bus_owner, NULL), SBR_OK);
    ck_assert_ptr_null(bus_health());
    ck_assert_int_eq(bus_set_health(bus_owner, "{\"bus_mode\":\"sentinel\"}"), SBR_OK);
    /* Gone with the provider. */
    bus_unregister_all(bus_owner);
    ck_assert_ptr_null(bus_health());
}
END_TEST

START_TEST(test_room_log_on_before_subscriptions)
{
    /* Recovery on: the provider hears it before the topics waiting for it. */
    provider_with_log = provider;
    provider_with_log.room_log_on = fake_room_log_on;
    ck_assert_int_eq(bus_subscribe(owner, "room:a", on_message, NULL), SBR_OK);
    bus_room_log_want(1);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider_with_log, NULL), SBR_OK);
    ck_assert_str_eq(calls, "room_log_on;sub:room:a;");
    bus_unregister_all(bus_owner);
    /* Off: never called; a provider without the op is fine either way. */
    calls[0] = '\0';
    bus_room_log_want(0);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider_with_log, NULL), SBR_OK);
    ck_assert_str_eq(calls, "sub:room:a;");
    bus_unregister_all(bus_owner);
    calls[0] = '\0';
    bus_room_log_want(1);
    ck_assert_int_eq(bus_api_provide(bus_owner, &provider, NULL), SBR_OK);
    ck_assert_str_eq(calls, "sub:room:a;");
    bus_room_log_want(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_bus");
    TCase *tc = tcase_create("bus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_without_provider);
    tcase_add_test(tc, test_core_topics_refused_to_plugins);
    tcase_add_test(tc, test_provider_routing_and_interest);
    tcase_add_test(tc, test_state_changes);
    tcase_add_test(tc, test_provider_health);
    tcase_add_test(tc, test_room_log_on_before_subscriptions);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
