/* The presence plugin against the fake host. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

static const char *const S7[] = {"7", NULL};
static const char *const S78[] = {"7", "8", NULL};
static const char *const S9[] = {"9", NULL};

static sbr_conn_id watcher;

static void setup(void)
{
    ck_assert_int_eq(fake_load("presence", (const char *const[]){"ttl_seconds", "30", NULL}), 0);
    watcher = fake_connect("w", S7, NULL);
    fake_clear_received();
}

static void teardown(void) { fake_reset(); }

static const char *snapshot(sbr_conn_id conn, const char *server)
{
    char args[64];
    snprintf(args, sizeof args, "[{\"server_id\":\"%s\"}]", server);
    return fake_get(fake_send(conn, "presence_snapshot", args), "members");
}

START_TEST(first_connection_online_last_offline)
{
    sbr_conn_id tab1 = fake_connect("u1", S78, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    const char *ev = fake_last(watcher, "presence_update");
    ck_assert_str_eq(fake_get(ev, "user_id"), "u1");
    ck_assert_str_eq(fake_get(ev, "status"), "online");
    ck_assert_str_eq(fake_get(ev, "server_id"), "7");
    /* The new connection is in its server rooms: it sees itself come online. */
    ck_assert_uint_eq(fake_received(tab1, "presence_update"), 2);
    sbr_conn_id tab2 = fake_connect("u1", S78, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"},"
                                             "{\"user_id\":\"u1\",\"status\":\"online\"}]");
    fake_disconnect(tab1);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_disconnect(tab2);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "offline");
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"}]");
    ck_assert_uint_eq(fake_map_count("presence:server:8"), 0);
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 0);
}
END_TEST

START_TEST(status_changes_and_invisible)
{
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    fake_clear_received();
    const char *ack = fake_send(c, "presence_set", "[{\"status\":\"dnd\"}]");
    ck_assert_str_eq(fake_get(ack, "ok"), "true");
    ck_assert_str_eq(fake_get(ack, "status"), "dnd");
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "dnd");
    ck_assert_str_eq(fake_map_value("presence:server:7", "u1"), "dnd");
    fake_send(c, "presence_set", "[{\"status\":\"dnd\"}]");
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_send(c, "presence_set", "[{\"status\":\"invisible\"}]");
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "offline");
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"}]");
    /* Invisible stays out of the server map across refreshes. */
    fake_advance(60000);
    ck_assert_ptr_null(fake_map_value("presence:server:7", "u1"));
    /* A second tab takes the invisible status and announces nothing. */
    sbr_conn_id c2 = fake_connect("u1", S7, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    ck_assert_ptr_null(fake_map_value("presence:server:7", "u1"));
    fake_disconnect(c);
    fake_disconnect(c2);
    /* Already shown offline: no second offline. */
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
}
END_TEST

START_TEST(bad_status_and_snapshot_rights)
{
    sbr_conn_id c = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(c, "presence_set", "[{\"status\":\"away\"}]"), "error"), "invalid_status");
    ck_assert_str_eq(fake_get(fake_send(c, "presence_set", "[{\"status\":\"offline\"}]"), "error"), "invalid_status");
    ck_assert_str_eq(fake_get(fake_send(c, "presence_set", "[{}]"), "error"), "invalid_payload");
    ck_assert_str_eq(fake_get(fake_send(c, "presence_set", "[\"idle\"]"), "error"), "invalid_payload");
    ck_assert_str_eq(fake_get(fake_send(c, "presence_snapshot", "[{\"server_id\":\"9\"}]"), "error"), "forbidden");
    ck_assert_str_eq(fake_get(fake_send(c, "presence_snapshot", "[{}]"), "error"), "invalid_payload");
    const char *ack = fake_send(c, "presence_snapshot", "[{\"server_id\":7}]");
    ck_assert_str_eq(fake_get(ack, "server_id"), "7");
}
END_TEST

START_TEST(refresh_keeps_entries_alive)
{
    fake_connect("u1", S9, NULL);
    /* Tabs of one user with other memberships keep all of them alive. */
    fake_connect("u2", S7, NULL);
    fake_connect("u2", S78, NULL);
    fake_connect("u2", S7, NULL);
    fake_advance(95000);
    ck_assert_str_eq(fake_map_value("presence:server:9", "u1"), "online");
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 1);
    ck_assert_str_eq(fake_map_value("presence:server:7", "u2"), "online");
    ck_assert_str_eq(fake_map_value("presence:server:8", "u2"), "online");
    ck_assert_uint_eq(fake_map_count("presence:conns:u2"), 3);
}
END_TEST

START_TEST(http_presence)
{
    fake_connect("u1", S9, NULL);
    const char *body = NULL;
    ck_assert_int_eq(fake_http("GET", "/api/realtime/presence/9", NULL, 0, &body, NULL), 401);
    ck_assert_int_eq(fake_http("GET", "/api/realtime/presence/9", NULL, 1, &body, NULL), 200);
    ck_assert_str_eq(fake_get(body, "server_id"), "9");
    ck_assert_str_eq(fake_get(body, "members"), "[{\"user_id\":\"u1\",\"status\":\"online\"}]");
    ck_assert_int_eq(fake_http("GET", "/api/realtime/presence/10", NULL, 1, &body, NULL), 200);
    ck_assert_str_eq(fake_get(body, "members"), "[]");
}
END_TEST

#define DEAD "deadbeefdeadbeef"

/* Another worker, as it would have left the shared state when it died:
 * an old heartbeat, its user list, and for "back" a connection elsewhere. */
static void dead_worker_left(void)
{
    char beat[32];
    snprintf(beat, sizeof beat, "%llu", (unsigned long long)(fake_now() - 60000));
    fake_map_put("presence:workers", DEAD, beat, 300000);
    fake_map_put("presence:users:" DEAD, "zed", "[\"7\",\"8\"]", 90000);
    fake_map_put("presence:users:" DEAD, "back", "[\"7\"]", 90000);
    fake_map_put("presence:server:7", "zed", "online", 2000);
    fake_map_put("presence:conns:back", "other:1", "online", 120000);
    /* Its own connection of zed, refreshed just before it died: not expired yet. */
    fake_map_put("presence:conns:zed", DEAD ":5", "online", 25000);
}

START_TEST(a_dead_workers_users_go_offline_once)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    dead_worker_left();
    /* Within one TTL of reaching the backend (the other workers reconnect
     * on their own backoff), nobody is taken for dead. */
    fake_advance(30000); /* beats every 5 s */
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    fake_advance(5000); /* the beat at 35 s */
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    /* Its connection is gone at once, not when it would have expired. */
    ck_assert_uint_eq(fake_map_count("presence:conns:zed"), 0);
    ck_assert_uint_eq(fake_map_count("presence:conns:back"), 1);
    const char *ev = fake_last(watcher, "presence_update");
    ck_assert_str_eq(fake_get(ev, "user_id"), "zed");
    ck_assert_str_eq(fake_get(ev, "status"), "offline");
    ck_assert_str_eq(fake_get(ev, "server_id"), "7");
    ck_assert_ptr_null(fake_map_value("presence:workers", DEAD));
    ck_assert_ptr_nonnull(fake_kv_value("presence:reap:" DEAD));
    ck_assert(fake_metric("superbot_presence_orphans_offline_total", NULL) == 1);
    /* Reaped once: later refreshes announce nothing more. */
    fake_advance(10000);
    fake_run();
    fake_advance(10000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    /* This worker beats and lists its own user, with its servers. */
    const char *self = fake_map_field("presence:workers", 0);
    ck_assert_str_eq(self, FAKE_WORKER_ID); /* the core's identity */
    ck_assert_ptr_null(fake_map_field("presence:workers", 1));
    char users[64];
    snprintf(users, sizeof users, "presence:users:%s", self);
    ck_assert_str_eq(fake_map_value(users, "w"), "[\"7\"]");
}
END_TEST

START_TEST(a_worker_that_dies_is_reaped_within_the_ttl)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_advance(31000);
    fake_run();
    /* Another worker beats, lists zed with a live connection, and dies now. */
    char beat[32];
    snprintf(beat, sizeof beat, "%llu", (unsigned long long)fake_now());
    fake_map_put("presence:workers", DEAD, beat, 300000);
    fake_map_put("presence:users:" DEAD, "zed", "[\"7\"]", 90000);
    fake_map_put("presence:server:7", "zed", "online", 30000);
    fake_map_put("presence:conns:zed", DEAD ":1", "online", 30000);
    fake_advance(15000); /* silent for half the TTL: not yet */
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    fake_advance(5000); /* the next beat: dead */
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "offline");
    ck_assert_ptr_null(fake_map_value("presence:server:7", "zed"));
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"}]");
}
END_TEST

START_TEST(no_reaping_while_the_backend_is_away)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    dead_worker_left();
    fake_bus_change(SBR_BUS_DOWN, 0);
    fake_advance(50000);
    fake_run();
    fake_advance(10000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    ck_assert_ptr_null(fake_kv_value("presence:reap:" DEAD));
}
END_TEST

START_TEST(a_worker_taken_for_dead_announces_its_users_again)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    const char *self = fake_map_field("presence:workers", 0);
    ck_assert_ptr_nonnull(self);
    char reaped[64];
    snprintf(reaped, sizeof reaped, "presence:reap:%s", self);
    /* Back after an outage, not taken for dead: nothing to announce. */
    fake_bus_change(SBR_BUS_DOWN, 0);
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    /* Cut off long enough for a live worker to reap this one. */
    fake_bus_change(SBR_BUS_DOWN, 0);
    fake_kv_put(reaped, "1");
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    const char *ev = fake_last(watcher, "presence_update");
    ck_assert_str_eq(fake_get(ev, "user_id"), "w");
    ck_assert_str_eq(fake_get(ev, "status"), "online");
    ck_assert_ptr_null(fake_kv_value(reaped));
}
END_TEST

/* The worker stops while the removal of a closed connection is in flight:
 * the bus drops the reply, and presence frees the connection itself at
 * unload (the ASan and valgrind runs of this test see any leak). */
START_TEST(a_connection_closed_as_the_worker_stops)
{
    sbr_conn_id tab = fake_connect("u1", S7, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_close(tab);
    /* Not announced offline: that waits for the bus's answer, which never comes. */
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_reset();
    ck_assert_int_eq(fake_load("presence", (const char *const[]){"ttl_seconds", "30", NULL}), 0);
}
END_TEST

START_TEST(offline_said_while_away_is_taken_back_for_users_still_elsewhere)
{
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    sbr_conn_id both = fake_connect("u1", S7, NULL);
    sbr_conn_id gone = fake_connect("u2", S7, NULL);
    fake_clear_received();
    /* Cut off: u1's tab here closes; this worker cannot see u1's tab on
     * another worker and says offline.  u2 is gone for good. */
    fake_bus_change(SBR_BUS_DOWN, 0);
    fake_disconnect(both);
    fake_disconnect(gone);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    /* Back; the other worker writes u1's connection back (idle there). */
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_map_put("presence:conns:u1", "other:9", "idle", 30000);
    fake_advance(5000); /* a beat */
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 3);
    const char *ev = fake_last(watcher, "presence_update");
    ck_assert_str_eq(fake_get(ev, "user_id"), "u1");
    ck_assert_str_eq(fake_get(ev, "status"), "idle");
    /* u2 has no connection anywhere: nothing, and forgotten after a TTL. */
    fake_advance(40000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 3);
    fake_map_put("presence:conns:u2", "other:8", "online", 30000);
    fake_advance(10000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 3);
}
END_TEST

START_TEST(a_lost_connection_waits_out_the_grace)
{
    sbr_conn_id tab = fake_connect("u1", S7, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_lose(tab);
    /* Still online for everyone while its client may come back. */
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 1);
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"},"
                                             "{\"user_id\":\"u1\",\"status\":\"online\"}]");
    fake_advance(4999);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    fake_advance(1);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "offline");
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 0);
    fake_advance(10000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
}
END_TEST

START_TEST(back_within_the_grace_no_flap)
{
    sbr_conn_id tab = fake_connect("u1", S7, NULL);
    ck_assert_str_eq(fake_get(fake_send(tab, "presence_set", "[{\"status\":\"dnd\"}]"), "ok"), "true");
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2); /* online, dnd */
    fake_lose(tab);
    fake_advance(3000);
    fake_run();
    /* Back (on this worker or another): no online, and its status kept. */
    sbr_conn_id back = fake_connect("u1", S7, NULL);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    fake_advance(3000);
    fake_run();
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 2);
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 1);
    ck_assert_str_eq(snapshot(watcher, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"},"
                                             "{\"user_id\":\"u1\",\"status\":\"dnd\"}]");
    /* A clean disconnect then: offline at once. */
    fake_disconnect(back);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 3);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "offline");
}
END_TEST

START_TEST(no_grace_when_zero)
{
    fake_reset();
    ck_assert_int_eq(fake_load("presence", (const char *const[]){"presence_grace_seconds", "0", NULL}), 0);
    sbr_conn_id w = fake_connect("w", S7, NULL);
    sbr_conn_id tab = fake_connect("u1", S7, NULL);
    fake_clear_received();
    fake_lose(tab);
    ck_assert_uint_eq(fake_received(w, "presence_update"), 1);
    ck_assert_str_eq(fake_get(fake_last(w, "presence_update"), "status"), "offline");
}
END_TEST

/* A grace longer than the entries' TTL: the user stays listed, online, in
 * the servers' snapshots until the grace ends. */
START_TEST(a_grace_longer_than_the_ttl_keeps_the_user_listed)
{
    fake_reset();
    ck_assert_int_eq(fake_load("presence", (const char *const[]){"ttl_seconds", "2", "presence_grace_seconds", "5",
                                                                  NULL}), 0);
    sbr_conn_id w = fake_connect("w", S7, NULL);
    sbr_conn_id tab = fake_connect("u1", S7, NULL);
    fake_clear_received();
    fake_lose(tab);
    fake_advance(4000);
    fake_run();
    ck_assert_str_eq(snapshot(w, "7"), "[{\"user_id\":\"w\",\"status\":\"online\"},"
                                       "{\"user_id\":\"u1\",\"status\":\"online\"}]");
    ck_assert_uint_eq(fake_received(w, "presence_update"), 0);
    fake_advance(1000);
    fake_run();
    ck_assert_uint_eq(fake_received(w, "presence_update"), 1);
    ck_assert_str_eq(fake_get(fake_last(w, "presence_update"), "status"), "offline");
}
END_TEST

START_TEST(a_dead_workers_users_get_the_grace_from_its_last_beat)
{
    fake_reset();
    ck_assert_int_eq(fake_load("presence", (const char *const[]){"ttl_seconds", "30", "presence_grace_seconds",
                                                                  "25", NULL}), 0);
    sbr_conn_id w = fake_connect("w", S7, NULL);
    fake_bus_change(SBR_BUS_CONNECTED, 0);
    fake_advance(31000);
    fake_run();
    fake_clear_received();
    char beat[32];
    snprintf(beat, sizeof beat, "%llu", (unsigned long long)fake_now());
    fake_map_put("presence:workers", DEAD, beat, 300000);
    fake_map_put("presence:users:" DEAD, "zed", "[\"7\"]", 90000);
    fake_map_put("presence:server:7", "zed", "online", 60000);
    fake_map_put("presence:conns:zed", DEAD ":1", "online", 60000);
    /* Found dead at the beat after half the TTL (20 s), checked at 25 s. */
    fake_advance(20000);
    fake_run();
    ck_assert_uint_eq(fake_received(w, "presence_update"), 0);
    fake_advance(4999);
    fake_run();
    ck_assert_uint_eq(fake_received(w, "presence_update"), 0);
    fake_advance(1);
    fake_run();
    ck_assert_uint_eq(fake_received(w, "presence_update"), 1);
    ck_assert_str_eq(fake_get(fake_last(w, "presence_update"), "status"), "offline");
}
END_TEST

START_TEST(memberships_that_change_while_connected)
{
    static const char *const S8[] = {"8", NULL};
    sbr_conn_id watcher8 = fake_connect("w8", S8, NULL);
    sbr_conn_id tab1 = fake_connect("u1", S7, NULL);
    sbr_conn_id tab2 = fake_connect("u1", S7, NULL);
    fake_clear_received();
    /* Joined 8 (on both tabs, as the server API does): its members see u1 once. */
    ck_assert_int_eq(fake_change_identity(tab1, S78, NULL), SBR_OK);
    ck_assert_int_eq(fake_change_identity(tab2, S78, NULL), SBR_OK);
    ck_assert_uint_eq(fake_received(watcher8, "presence_update"), 1);
    const char *ev = fake_last(watcher8, "presence_update");
    ck_assert_str_eq(fake_get(ev, "server_id"), "8");
    ck_assert_str_eq(fake_get(ev, "user_id"), "u1");
    ck_assert_str_eq(fake_get(ev, "status"), "online");
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    ck_assert_str_eq(fake_map_value("presence:server:8", "u1"), "online");
    /* Left 7: kept there while the other tab still has it, then offline once. */
    ck_assert_int_eq(fake_change_identity(tab1, S8, NULL), SBR_OK);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 0);
    ck_assert_int_eq(fake_change_identity(tab2, S8, NULL), SBR_OK);
    ck_assert_uint_eq(fake_received(watcher, "presence_update"), 1);
    ev = fake_last(watcher, "presence_update");
    ck_assert_str_eq(fake_get(ev, "server_id"), "7");
    ck_assert_str_eq(fake_get(ev, "status"), "offline");
    ck_assert_ptr_null(fake_map_value("presence:server:7", "u1"));
    /* The refresh writes the new memberships, not the old ones. */
    fake_advance(60000);
    ck_assert_ptr_null(fake_map_value("presence:server:7", "u1"));
    ck_assert_str_eq(fake_map_value("presence:server:8", "u1"), "online");
    /* The status shown is the user's own; an invisible user shows nowhere. */
    fake_send(tab1, "presence_set", "[{\"status\":\"dnd\"}]");
    fake_clear_received();
    ck_assert_int_eq(fake_change_identity(tab1, S78, NULL), SBR_OK);
    ck_assert_str_eq(fake_get(fake_last(watcher, "presence_update"), "status"), "dnd");
    fake_send(tab1, "presence_set", "[{\"status\":\"invisible\"}]");
    fake_clear_received();
    ck_assert_int_eq(fake_change_identity(tab2, S78, NULL), SBR_OK);
    ck_assert_int_eq(fake_change_identity(tab1, S9, NULL), SBR_OK);
    ck_assert_int_eq(fake_change_identity(tab2, S9, NULL), SBR_OK);
    ck_assert_uint_eq(fake_received(watcher, "presence_update") + fake_received(watcher8, "presence_update"), 0);
    ck_assert_ptr_null(fake_map_value("presence:server:9", "u1"));
    /* The last tab going leaves nothing behind in the servers it has now. */
    fake_disconnect(tab1);
    fake_disconnect(tab2);
    ck_assert_uint_eq(fake_map_count("presence:conns:u1"), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("presence");
    TCase *tc = tcase_create("presence");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, first_connection_online_last_offline);
    tcase_add_test(tc, status_changes_and_invisible);
    tcase_add_test(tc, bad_status_and_snapshot_rights);
    tcase_add_test(tc, refresh_keeps_entries_alive);
    tcase_add_test(tc, http_presence);
    tcase_add_test(tc, a_dead_workers_users_go_offline_once);
    tcase_add_test(tc, a_worker_that_dies_is_reaped_within_the_ttl);
    tcase_add_test(tc, no_reaping_while_the_backend_is_away);
    tcase_add_test(tc, offline_said_while_away_is_taken_back_for_users_still_elsewhere);
    tcase_add_test(tc, a_worker_taken_for_dead_announces_its_users_again);
    tcase_add_test(tc, a_connection_closed_as_the_worker_stops);
    tcase_add_test(tc, a_lost_connection_waits_out_the_grace);
    tcase_add_test(tc, back_within_the_grace_no_flap);
    tcase_add_test(tc, no_grace_when_zero);
    tcase_add_test(tc, a_grace_longer_than_the_ttl_keeps_the_user_listed);
    tcase_add_test(tc, a_dead_workers_users_get_the_grace_from_its_last_beat);
    tcase_add_test(tc, memberships_that_change_while_connected);
    suite_add_tcase(s, tc);
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
