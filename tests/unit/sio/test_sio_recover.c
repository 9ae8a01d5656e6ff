/* core/sio/sio_recover.c, sio_recover_record.c and sio_stream.c: with
 * recovery on, the CONNECT answer's pid, room events with their offset,
 * the session saved when a connection is lost (and not when it ends
 * cleanly), a recovering CONNECT answered with the missed events first,
 * then the old sid, in its rooms again; and every case that gives a fresh
 * connection instead (another user, an incomplete log).  Against a real
 * server with polling clients and a provider of this file: a kv store and
 * a room log in memory, answering from the loop as providers must. */
#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "bus_rooms.h"
#include "hooks/hooks.h"
#include "sio/sio.h"
#include "sio/sio_recover_record.h"
#include "sio_fixture.h"

static sbr_plugin *const owner = (sbr_plugin *)0x1;
static sbr_plugin *const provider_owner = (sbr_plugin *)0x2;

/* --- the provider ----------------------------------------------------- */

#define MAX_KV 8
#define MAX_LOG 64
static struct { char key[96]; char value[1024]; int used; } kv[MAX_KV];
static struct { char topic[64]; char except[32]; char packet[256]; uint64_t offset; } room_log[MAX_LOG];
static int n_log;
static uint64_t next_offset;
static int replay_complete;
static int kv_sets; /* sessions saved */

/* Answers wait for the loop. */
struct deferred {
    struct deferred *next;
    void (*run)(struct deferred *);
    sbr_state_done_fn done;
    sbr_room_replay_fn replay_done;
    void *userdata;
    sbr_state_reply reply;
    char value[1024];
    char topics[4][64];
    size_t n_topics;
    uint64_t after;
};
static struct deferred *queue;
static struct event *queue_event;

static void queue_run(evutil_socket_t fd, short what, void *arg)
{
    while (queue) {
        struct deferred *d = queue;
        queue = d->next;
        d->run(d);
        free(d);
    }
}

static struct deferred *defer(void (*run)(struct deferred *))
{
    struct deferred *d = calloc(1, sizeof(*d));
    d->run = run;
    struct deferred **p = &queue;
    while (*p)
        p = &(*p)->next;
    *p = d;
    event_active(queue_event, EV_TIMEOUT, 0);
    return d;
}

static void answer_state(struct deferred *d)
{
    d->reply.struct_size = sizeof(d->reply);
    if (d->reply.found)
        d->reply.value = d->value, d->reply.value_len = strlen(d->value);
    d->done(&d->reply, d->userdata);
}

static int find_kv(const char *key)
{
    for (int i = 0; i < MAX_KV; i++)
        if (kv[i].used && strcmp(kv[i].key, key) == 0)
            return i;
    return -1;
}

static int p_kv_set(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl, sbr_state_done_fn done,
                    void *ud)
{
    int i = find_kv(key);
    for (int k = 0; i < 0 && k < MAX_KV; k++)
        if (!kv[k].used)
            i = k;
    ck_assert_int_ge(i, 0);
    kv[i].used = 1;
    snprintf(kv[i].key, sizeof(kv[i].key), "%s", key);
    snprintf(kv[i].value, sizeof(kv[i].value), "%.*s", (int)len, value);
    if (strncmp(key, "recovery:", 9) == 0) /* not the worker registry's */
        kv_sets++;
    struct deferred *d = defer(answer_state);
    d->done = done, d->userdata = ud;
    return SBR_OK;
}

static int p_kv_get(void *ctx, const char *key, sbr_state_done_fn done, void *ud)
{
    struct deferred *d = defer(answer_state);
    d->done = done, d->userdata = ud;
    int i = find_kv(key);
    if (i >= 0) {
        d->reply.found = 1;
        snprintf(d->value, sizeof(d->value), "%s", kv[i].value);
    }
    return SBR_OK;
}

static int p_kv_del(void *ctx, const char *key, sbr_state_done_fn done, void *ud)
{
    struct deferred *d = defer(answer_state);
    d->done = done, d->userdata = ud;
    int i = find_kv(key);
    d->reply.changed = i >= 0;
    if (i >= 0)
        kv[i].used = 0;
    return SBR_OK;
}

static int p_room_publish(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                          unsigned flags, uint64_t max_events, uint64_t keep_ms)
{
    ck_assert_int_lt(n_log, MAX_LOG);
    ck_assert_uint_eq(max_events, 1000);
    ck_assert_uint_gt(keep_ms, 30000);
    snprintf(room_log[n_log].topic, sizeof(room_log[0].topic), "%s", topic);
    snprintf(room_log[n_log].except, sizeof(room_log[0].except), "%s", except);
    snprintf(room_log[n_log].packet, sizeof(room_log[0].packet), "%.*s", (int)len, data);
    room_log[n_log].offset = ++next_offset;
    n_log++;
    bus_api_deliver_room(topic, next_offset, except, flags, data, len);
    return SBR_OK;
}

static void answer_replay(struct deferred *d)
{
    uint64_t offsets[MAX_LOG];
    size_t topics[MAX_LOG], lens[MAX_LOG], n = 0;
    const char *excepts[MAX_LOG], *packets[MAX_LOG];
    for (int i = 0; i < n_log; i++) {
        for (size_t t = 0; t < d->n_topics; t++) {
            if (room_log[i].offset > d->after && strcmp(room_log[i].topic, d->topics[t]) == 0) {
                offsets[n] = room_log[i].offset;
                topics[n] = t;
                excepts[n] = room_log[i].except;
                packets[n] = room_log[i].packet;
                lens[n++] = strlen(room_log[i].packet);
            }
        }
    }
    sbr_room_replay_reply reply = {sizeof(reply), SBR_OK, replay_complete, next_offset, n, offsets, topics,
                                   excepts, packets, lens, {0}};
    d->replay_done(&reply, d->userdata);
}

static int p_room_replay(void *ctx, const sbr_room_replay *req, sbr_room_replay_fn done, void *ud)
{
    struct deferred *d = defer(answer_replay);
    d->replay_done = done, d->userdata = ud, d->after = req->after;
    ck_assert_uint_le(req->n_topics, 4);
    ck_assert_uint_eq(req->max_total, 10000);
    for (size_t i = 0; i < req->n_topics; i++)
        snprintf(d->topics[i], sizeof(d->topics[i]), "%s", req->topics[i]);
    d->n_topics = req->n_topics;
    return SBR_OK;
}

static int p_room_flush(void *ctx, sbr_state_done_fn done, void *ud)
{
    struct deferred *d = defer(answer_state);
    d->done = done, d->userdata = ud;
    d->reply.count = (int64_t)next_offset; /* where the log stands */
    return SBR_OK;
}

static int p_topic(void *ctx, const char *topic)
{
    return SBR_OK;
}

static const sbr_bus_provider provider = {
    .struct_size = sizeof(sbr_bus_provider),
    .name = "memory",
    .kv_set = p_kv_set,
    .kv_get = p_kv_get,
    .kv_del = p_kv_del,
    .subscribe = p_topic,
    .unsubscribe = p_topic,
    .room_publish = p_room_publish,
    .room_replay = p_room_replay,
    .room_flush = p_room_flush,
};

/* --- the hooks: identity from the auth payload's "as" ----------------- */

static sbr_conn_id last_conn;
static int recovered_events, asked_events;
static char offered_rooms[256]; /* the rooms a recovery offered, "a;b;" */
static const char *drop_room;  /* a room the connect hook leaves out of a restore */

static int on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_connect *ev = event;
    last_conn = ev->conn;
    const char *as = ev->auth_json && strstr(ev->auth_json, "\"as\":\"u2\"") ? "u2" : "u1";
    sbr_identity who = {.struct_size = sizeof(who), .user_id = as};
    ck_assert_int_eq(sio_api_conn_set_identity(ev->conn, &who), SBR_OK);
    offered_rooms[0] = '\0';
    for (size_t i = 0; ev->recovery && i < ev->recovery->n_rooms; i++) {
        strncat(offered_rooms, ev->recovery->rooms[i], sizeof(offered_rooms) - strlen(offered_rooms) - 2);
        strcat(offered_rooms, ";");
        if (drop_room && strcmp(ev->recovery->rooms[i], drop_room) == 0)
            ev->recovery->keep[i] = 0;
    }
    return SBR_PASS;
}

static int on_connected(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_connected *ev = event;
    recovered_events += ev->recovered;
    asked_events += ev->recovery_asked;
    return 0;
}

static void setup(void)
{
    sio_fixture_start("recovery_window_seconds = 30\nping_interval_ms = 60000\nping_timeout_ms = 60000\n");
    memset(kv, 0, sizeof(kv));
    n_log = 0;
    next_offset = 1000;
    replay_complete = 1;
    kv_sets = 0;
    recovered_events = asked_events = 0;
    drop_room = NULL;
    queue_event = event_new(sio_test_base, -1, 0, queue_run, NULL);
    ck_assert_int_eq(bus_api_provide(provider_owner, &provider, NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECT, on_connect, NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECTED, on_connected, NULL), SBR_OK);
}

static void teardown(void)
{
    bus_unregister_all(provider_owner);
    sio_fixture_stop();
    queue_run(-1, 0, NULL);
    event_free(queue_event);
}

/* Open a session and CONNECT with payload; the answer's sid and pid. */
static sbr_conn_id connect_with(char *eio_sid, const char *payload, char *sid, char *pid, char *got, size_t cap)
{
    client_open(eio_sid);
    ck_assert_int_eq(client_post(eio_sid, payload), 200);
    ck_assert(client_poll_for(eio_sid, "40{\"sid\":\"", got, cap));
    const char *answer = strstr(got, "40{\"sid\":\"");
    ck_assert_int_eq(sscanf(answer, "40{\"sid\":\"%22[^\"]\",\"pid\":\"%22[^\"]\"}", sid, pid), 2);
    return last_conn;
}

START_TEST(test_answer_and_offsets)
{
    char eio[64], sid[32], pid[32], got[4096];
    sbr_conn_id c = connect_with(eio, "40", sid, pid, got, sizeof(got));
    ck_assert_int_eq((int)strlen(sid), 22);
    ck_assert_int_eq((int)strlen(pid), 22);
    ck_assert_int_eq(asked_events, 0);
    ck_assert_int_eq(sio_api_room_join(c, "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":1}", 0, 0), SBR_OK);
    ck_assert(client_poll_for(eio, "42[\"news\",{\"n\":1},\"0000000000001001\"]", got, sizeof(got)));
    /* The log got the packet without its offset, and whom it skips. */
    ck_assert_str_eq(room_log[0].packet, "42[\"news\",{\"n\":1}]");
    ck_assert_str_eq(room_log[0].except, "");
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":2}", c, 0), SBR_OK);
    ck_assert_str_eq(room_log[1].except, sid);
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":3}", 0, SBR_EMIT_VOLATILE), SBR_OK);
    ck_assert(client_poll_for(eio, "0000000000001003", got, sizeof(got)));
    ck_assert_ptr_null(strstr(got, "{\"n\":2}"));
}
END_TEST

/* A connection in "lobby" that got n=1, then lost: returns its offset. */
static void lose_one(char *sid, char *pid, char *offset)
{
    char eio[64], got[4096];
    sbr_conn_id c = connect_with(eio, "40", sid, pid, got, sizeof(got));
    ck_assert_int_eq(sio_api_room_join(c, "lobby"), SBR_OK);
    ck_assert_int_eq(sio_api_room_join(c, "side"), SBR_OK);
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":1}", 0, 0), SBR_OK);
    ck_assert(client_poll_for(eio, "{\"n\":1},\"", got, sizeof(got)));
    ck_assert_int_eq(sscanf(strstr(got, "{\"n\":1},\""), "{\"n\":1},\"%16[0-9]", offset), 1);
    int sets = kv_sets;
    ck_assert_int_eq(client_post(eio, "1"), 200); /* the transport closes under it */
    ck_assert_int_eq(sio_api_conn_alive(c), 0);
    ck_assert_int_eq(kv_sets, sets + 1);
}

START_TEST(test_lost_then_recovered)
{
    char sid[32], pid[32], offset[20], eio[64], got[4096], payload[128], sid2[32], pid2[32];
    lose_one(sid, pid, offset);
    /* The record in the shared state. */
    char key[SIO_RECORD_KEY_MAX];
    sio_record_key(pid, key);
    int i = find_kv(key);
    ck_assert_int_ge(i, 0);
    struct sio_record rec;
    ck_assert_int_eq(sio_record_decode(kv[i].value, strlen(kv[i].value), &rec), 0);
    ck_assert_str_eq(rec.sid, sid);
    ck_assert_str_eq(rec.user_id, "u1");
    ck_assert_ptr_null(rec.session_id);
    ck_assert_uint_eq(rec.n_rooms, 2);
    sio_record_clear(&rec);
    /* Missed meanwhile: two events, one of them for another room. */
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":2}", 0, 0), SBR_OK);
    ck_assert_int_eq(sio_api_emit_room("elsewhere", "news", "{\"n\":9}", 0, 0), SBR_OK);
    ck_assert_int_eq(sio_api_emit_room("side", "news", "{\"n\":3}", 0, 0), SBR_OK);
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\",\"offset\":\"%s\"}", pid, offset);
    sbr_conn_id c = connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_eq(sid2, sid);
    ck_assert_str_eq(pid2, pid);
    ck_assert_str_eq(offered_rooms, "lobby;side;");
    /* The missed events first, in order, then the answer. */
    const char *n2 = strstr(got, "42[\"news\",{\"n\":2},\"0000000000001002\"]");
    const char *n3 = strstr(got, "42[\"news\",{\"n\":3},\"0000000000001004\"]");
    const char *answer = strstr(got, "40{\"sid\"");
    ck_assert(n2 && n3 && answer && n2 < n3 && n3 < answer);
    ck_assert_ptr_null(strstr(got, "{\"n\":9}"));
    ck_assert_ptr_null(strstr(got, "{\"n\":1}"));
    ck_assert_int_eq(recovered_events, 1);
    ck_assert_int_eq(asked_events, 1);
    ck_assert_int_eq(sio_api_room_contains(c, "lobby"), 1);
    ck_assert_int_eq(sio_api_room_contains(c, "side"), 1);
    ck_assert_int_eq(find_kv(key), -1); /* taken */
    /* Live again, and nothing sent twice. */
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":4}", 0, 0), SBR_OK);
    ck_assert(client_poll_for(eio, "{\"n\":4},\"0000000000001005\"", got, sizeof(got)));
    ck_assert_ptr_null(strstr(got, "{\"n\":2}"));
}
END_TEST

START_TEST(test_another_user_or_an_incomplete_log_is_fresh)
{
    char sid[32], pid[32], offset[20], eio[64], got[4096], payload[160], sid2[32], pid2[32];
    lose_one(sid, pid, offset);
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":2}", 0, 0), SBR_OK);
    /* Another user's connection with the pid: fresh, and the session stays. */
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\",\"offset\":\"%s\",\"as\":\"u2\"}", pid, offset);
    sbr_conn_id c = connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_ne(sid2, sid);
    ck_assert_str_ne(pid2, pid);
    ck_assert_ptr_null(strstr(got, "{\"n\":2}"));
    ck_assert_int_eq(sio_api_room_contains(c, "lobby"), 0);
    ck_assert_int_eq(recovered_events, 0);
    char key[SIO_RECORD_KEY_MAX];
    sio_record_key(pid, key);
    ck_assert_int_ge(find_kv(key), 0);
    /* The owner, with a log that cannot prove it is whole: fresh too, and
     * out of the rooms the restore had joined. */
    replay_complete = 0;
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\",\"offset\":\"%s\"}", pid, offset);
    c = connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_ne(sid2, sid);
    ck_assert_ptr_null(strstr(got, "{\"n\":2}"));
    ck_assert_int_eq(sio_api_room_contains(c, "lobby"), 0);
    ck_assert_int_eq(recovered_events, 0);
    ck_assert_int_eq(asked_events, 2);
}
END_TEST

START_TEST(test_kept_rooms_and_skipped_events)
{
    char sid[32], pid[32], offset[20], eio[64], got[4096], payload[128], sid2[32], pid2[32];
    lose_one(sid, pid, offset);
    ck_assert_int_eq(sio_api_emit_room("side", "news", "{\"n\":5}", 0, 0), SBR_OK);
    /* An event that skipped this very socket (its own typing, say). */
    bus_api_deliver_room("room:lobby", 0, "", 0, "42[\"x\"]", 7); /* no offset: ignored */
    room_log[n_log] = room_log[n_log - 1];
    snprintf(room_log[n_log].topic, sizeof(room_log[0].topic), "room:lobby");
    snprintf(room_log[n_log].except, sizeof(room_log[0].except), "%s", sid);
    snprintf(room_log[n_log].packet, sizeof(room_log[0].packet), "42[\"mine\"]");
    room_log[n_log++].offset = ++next_offset;
    drop_room = "side";
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\",\"offset\":\"%s\"}", pid, offset);
    sbr_conn_id c = connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_eq(sid2, sid);
    ck_assert_int_eq(recovered_events, 1);
    ck_assert_int_eq(sio_api_room_contains(c, "lobby"), 1);
    ck_assert_int_eq(sio_api_room_contains(c, "side"), 0);
    ck_assert_ptr_null(strstr(got, "{\"n\":5}"));
    ck_assert_ptr_null(strstr(got, "mine"));
}
END_TEST

START_TEST(test_clean_endings_save_nothing)
{
    char eio[64], sid[32], pid[32], got[4096], payload[128];
    connect_with(eio, "40", sid, pid, got, sizeof(got));
    ck_assert_int_eq(client_post(eio, "41"), 200);
    ck_assert_int_eq(kv_sets, 0);
    /* Its pid then asks for nothing that exists: a fresh connection. */
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\",\"offset\":\"0000000000001000\"}", pid);
    char sid2[32], pid2[32];
    connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_ne(sid2, sid);
    ck_assert_int_eq(recovered_events, 0);
    ck_assert_int_eq(asked_events, 1);
}
END_TEST

START_TEST(test_no_offset_starts_where_the_connection_did)
{
    char eio[64], sid[32], pid[32], got[4096], payload[128], sid2[32], pid2[32];
    /* Before the connection: not its to get back. */
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":0}", 0, 0), SBR_OK);
    sbr_conn_id c = connect_with(eio, "40", sid, pid, got, sizeof(got));
    ck_assert_int_eq(sio_api_room_join(c, "lobby"), SBR_OK);
    ck_assert_int_eq(client_post(eio, "1"), 200); /* lost before any room event */
    ck_assert_int_eq(sio_api_emit_room("lobby", "news", "{\"n\":1}", 0, 0), SBR_OK);
    /* A client that got no room event sends its pid without an offset. */
    snprintf(payload, sizeof(payload), "40{\"pid\":\"%s\"}", pid);
    connect_with(eio, payload, sid2, pid2, got, sizeof(got));
    ck_assert_str_eq(sid2, sid);
    ck_assert_int_eq(recovered_events, 1);
    ck_assert_ptr_nonnull(strstr(got, "{\"n\":1},\"0000000000001002\""));
    ck_assert_ptr_null(strstr(got, "{\"n\":0}"));
}
END_TEST

START_TEST(test_records)
{
    struct sio_record r;
    const char *good = "{\"v\":1,\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"nsp\":\"/\",\"user\":\"u\",\"session\":null,"
                       "\"start\":\"42\",\"rooms\":[\"a\",\"b\"]}";
    ck_assert_int_eq(sio_record_decode(good, strlen(good), &r), 0);
    ck_assert_uint_eq(r.start, 42);
    ck_assert_uint_eq(r.n_rooms, 2);
    sio_record_clear(&r);
    const char *bad[] = {
        "", "[]", "{\"v\":2}", "{\"v\":1,\"sid\":\"short\",\"nsp\":\"/\",\"start\":\"1\",\"rooms\":[]}",
        "{\"v\":1,\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"nsp\":\"/\",\"start\":\"x\",\"rooms\":[]}",
        "{\"v\":1,\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"nsp\":\"/\",\"start\":\"1\",\"rooms\":[1]}",
        "{\"v\":1,\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"start\":\"1\",\"rooms\":[]}",
        "{\"v\":1,\"sid\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"nsp\":\"/\",\"user\":5,\"start\":\"1\",\"rooms\":[]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_int_eq(sio_record_decode(bad[i], strlen(bad[i]), &r), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sio_recover");
    TCase *tc = tcase_create("recover");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_answer_and_offsets);
    tcase_add_test(tc, test_lost_then_recovered);
    tcase_add_test(tc, test_another_user_or_an_incomplete_log_is_fresh);
    tcase_add_test(tc, test_kept_rooms_and_skipped_events);
    tcase_add_test(tc, test_clean_endings_save_nothing);
    tcase_add_test(tc, test_no_offset_starts_where_the_connection_did);
    suite_add_tcase(s, tc);
    TCase *records = tcase_create("records");
    tcase_add_test(records, test_records);
    suite_add_tcase(s, records);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
