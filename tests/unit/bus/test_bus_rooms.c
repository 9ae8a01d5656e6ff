/* The room log every bus provider shares (room_publish, room_replay,
 * room_flush), run against bus-local and against bus-redis on a real
 * redis-server: offsets strictly increasing, every event handed back with
 * its offset, except and flags, replays by offset across rooms, what a
 * log cannot prove it holds answered incomplete, flushes answered once.
 * Then the in-process log alone, on a settable clock: exact trimming and
 * expiry. */
#include "bus_test.h"
#include "local_rooms.h"
#include "redis_server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct redis_server server;
static int on_redis;

#define P() fake_provider()
#define CTX() fake_provider_ctx()
#define KEEP_MS 60000

static void setup_local(void)
{
    on_redis = 0;
    ck_assert_int_eq(fake_load("bus-local", NULL), 0);
}

static int connected(void *ud)
{
    return fake_bus_state() == SBR_BUS_CONNECTED;
}

static void setup_redis(void)
{
    static char prefix[64];
    static const char *config[5];
    on_redis = 1;
    snprintf(prefix, sizeof(prefix), "rooms%d-%llu:", (int)getpid(), (unsigned long long)fake_now());
    config[0] = "url";
    config[1] = server.url;
    config[2] = "key_prefix";
    config[3] = prefix;
    config[4] = NULL;
    fake_real_clock();
    ck_assert_int_eq(fake_load("bus-redis", config), 0);
    ck_assert_msg(fake_run_until_fn(connected, NULL, 5000), "never connected: %s", fake_log());
}

static void teardown(void)
{
    fake_reset();
}

static int delivered_at_least(void *ud)
{
    return fake_room_delivered() >= *(size_t *)ud;
}

/* Publish and wait until the provider handed back n events in all. */
static void publish(const char *topic, const char *packet, const char *except, unsigned flags, uint64_t max_events)
{
    ck_assert_int_eq(P()->room_publish(CTX(), topic, packet, strlen(packet), except, flags, max_events, KEEP_MS),
                     SBR_OK);
}

static void wait_delivered(size_t n)
{
    ck_assert_msg(fake_run_until_fn(delivered_at_least, &n, 3000), "%zu of %zu delivered", fake_room_delivered(), n);
}

static uint64_t offset_of(size_t i)
{
    uint64_t offset;
    const char *except, *topic;
    unsigned flags;
    ck_assert_ptr_nonnull(fake_room_delivery(i, &offset, &except, &flags, &topic));
    return offset;
}

struct replay_result {
    int done, status, complete;
    uint64_t last;
    size_t n;
    uint64_t offsets[32];
    size_t topics[32];
    char packets[32][64];
    char excepts[32][32];
};

static void replay_record(const sbr_room_replay_reply *r, void *ud)
{
    struct replay_result *res = ud;
    res->status = r->status;
    res->complete = r->complete;
    res->last = r->last;
    res->n = r->n;
    for (size_t i = 0; i < r->n && i < 32; i++) {
        res->offsets[i] = r->offsets[i];
        res->topics[i] = r->topics[i];
        snprintf(res->packets[i], sizeof(res->packets[i]), "%.*s", (int)r->lens[i], r->packets[i]);
        snprintf(res->excepts[i], sizeof(res->excepts[i]), "%s", r->excepts[i]);
    }
    res->done++;
}

static void replay(const char *const *topics, size_t n, uint64_t after, uint64_t max_events, uint64_t max_total,
                   struct replay_result *res)
{
    sbr_room_replay req = {sizeof(req), topics, n, after, max_events, max_total, {0}};
    ck_assert_int_eq(P()->room_replay(CTX(), &req, replay_record, res), SBR_OK);
    ck_assert_int_eq(res->done, 0);
    ck_assert_msg(fake_run_until(&res->done, 3000), "no replay answer");
}

START_TEST(publish_hands_back_in_order)
{
    if (on_redis) {
        ck_assert_int_eq(P()->subscribe(CTX(), "room:a"), SBR_OK);
        ck_assert_int_eq(P()->subscribe(CTX(), "room:b"), SBR_OK);
    }
    publish("room:a", "42[\"e\",1]", "", 0, 100);
    publish("room:b", "42[\"e\",2]", "sock-x", SBR_EMIT_VOLATILE, 100);
    publish("room:a", "42[\"e\",3]", "", 0, 100);
    wait_delivered(3);
    const char *expect[] = {"42[\"e\",1]", "42[\"e\",2]", "42[\"e\",3]"};
    const char *topics[] = {"room:a", "room:b", "room:a"};
    for (size_t i = 0; i < 3; i++) {
        uint64_t offset;
        const char *except, *topic;
        unsigned flags;
        ck_assert_str_eq(fake_room_delivery(i, &offset, &except, &flags, &topic), expect[i]);
        ck_assert_str_eq(topic, topics[i]);
        ck_assert_str_eq(except, i == 1 ? "sock-x" : "");
        ck_assert_uint_eq(flags, i == 1 ? SBR_EMIT_VOLATILE : 0);
        /* Sixteen digits, increasing. */
        ck_assert_uint_ge(offset, 1000000000000000ull);
        ck_assert_uint_lt(offset, 10000000000000000ull);
        if (i)
            ck_assert_uint_gt(offset, offset_of(i - 1));
    }
    ck_assert_int_eq(P()->room_publish(CTX(), "not-a-room", "42[]", 4, "", 0, 100, KEEP_MS), SBR_ERR_INVALID);
}
END_TEST

START_TEST(replay_by_offset_across_rooms)
{
    if (on_redis) {
        ck_assert_int_eq(P()->subscribe(CTX(), "room:a"), SBR_OK);
        ck_assert_int_eq(P()->subscribe(CTX(), "room:b"), SBR_OK);
    }
    for (int i = 0; i < 6; i++) {
        char packet[32];
        snprintf(packet, sizeof(packet), "42[\"e\",%d]", i);
        publish(i % 2 ? "room:b" : "room:a", packet, i == 4 ? "me" : "", 0, 100);
    }
    publish("room:c", "42[\"other\"]", "", 0, 100);
    wait_delivered(on_redis ? 6 : 7);
    const char *topics[] = {"room:b", "room:a", "room:none"};
    struct replay_result res = {0};
    replay(topics, 3, offset_of(1), 100, 1000, &res);
    ck_assert_int_eq(res.status, SBR_OK);
    ck_assert_int_eq(res.complete, 1);
    ck_assert_uint_ge(res.last, offset_of(5));
    ck_assert_uint_eq(res.n, 4);
    for (size_t i = 0; i < 4; i++) {
        char packet[32];
        snprintf(packet, sizeof(packet), "42[\"e\",%zu]", i + 2);
        ck_assert_str_eq(res.packets[i], packet);
        ck_assert_uint_eq(res.offsets[i], offset_of(i + 2));
        ck_assert_uint_eq(res.topics[i], (i + 2) % 2 ? 0 : 1);
        ck_assert_str_eq(res.excepts[i], i + 2 == 4 ? "me" : "");
    }
    /* Nothing after the last: complete and empty. */
    struct replay_result none = {0};
    replay(topics, 3, res.last, 100, 1000, &none);
    ck_assert_int_eq(none.complete, 1);
    ck_assert_uint_eq(none.n, 0);
}
END_TEST

START_TEST(replay_incomplete_past_the_cap_or_the_total)
{
    for (int i = 0; i < 5; i++)
        publish("room:t", "42[\"e\"]", "", 0, 2);
    if (!on_redis)
        wait_delivered(5);
    else
        fake_run_for(200);
    const char *topics[] = {"room:t"};
    /* From the start: the log keeps at most about two, so it cannot say. */
    struct replay_result from_start = {0};
    replay(topics, 1, 1, 2, 1000, &from_start);
    ck_assert_int_eq(from_start.status, SBR_OK);
    ck_assert_int_eq(from_start.complete, 0);
    ck_assert_uint_eq(from_start.n, 0);
    /* More than max_total asked for. */
    struct replay_result big = {0};
    for (int i = 0; i < 3; i++)
        publish("room:u", "42[\"e\"]", "", 0, 100);
    fake_run_for(on_redis ? 200 : 0);
    const char *u[] = {"room:u"};
    replay(u, 1, 1, 100, 2, &big);
    ck_assert_int_eq(big.complete, 0);
    struct replay_result fits = {0};
    replay(u, 1, 1, 100, 3, &fits);
    ck_assert_int_eq(fits.complete, 1);
    ck_assert_uint_eq(fits.n, 3);
}
END_TEST

START_TEST(flush_answers_once)
{
    struct bus_result r = {0};
    if (on_redis)
        ck_assert_int_eq(P()->subscribe(CTX(), "room:f"), SBR_OK);
    publish("room:f", "42[\"e\"]", "", 0, 100);
    ck_assert_int_eq(P()->room_flush(CTX(), bus_test_record, &r), SBR_OK);
    ck_assert_int_eq(r.done, 0);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.status, SBR_OK);
    /* What was published before the flush is back by then, and the log's
     * position is at least its offset. */
    ck_assert_uint_eq(fake_room_delivered(), 1);
    ck_assert_int_ge(r.count, (int64_t)offset_of(0));
    fake_run_for(50);
    ck_assert_int_eq(r.done, 1);
}
END_TEST

/* bus-redis: the room log needs Redis; without it, publishing refuses (the
 * core then delivers without offsets) and a replay is unavailable. */
START_TEST(redis_away_refuses)
{
    static const char *config[] = {"url", "redis://127.0.0.1:1/0", "connect_timeout_ms", "100", NULL};
    fake_reset();
    ck_assert_int_eq(fake_load("bus-redis", config), 0);
    ck_assert_int_eq(P()->room_publish(CTX(), "room:a", "42[\"e\"]", 7, "", 0, 100, KEEP_MS), SBR_ERR_UNAVAILABLE);
    const char *topics[] = {"room:a"};
    sbr_room_replay req = {sizeof(req), topics, 1, 0, 100, 1000, {0}};
    struct replay_result res = {0};
    ck_assert_int_eq(P()->room_replay(CTX(), &req, replay_record, &res), SBR_ERR_UNAVAILABLE);
    struct bus_result r = {0};
    ck_assert_int_eq(P()->room_flush(CTX(), bus_test_record, &r), SBR_OK);
    BUS_WAIT(&r);
}
END_TEST

/* bus-redis: a flush whose script Redis refuses (its scripts forgotten)
 * is still answered: its marker would never come, and the connection
 * waiting on it would never get its CONNECT answer. */
START_TEST(redis_flush_refused_still_answers)
{
    ck_assert_int_eq(P()->subscribe(CTX(), "room:f"), SBR_OK);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d SCRIPT FLUSH >/dev/null", server.port);
    ck_assert_int_eq(system(cmd), 0);
    struct bus_result r = {0};
    ck_assert_int_eq(P()->room_flush(CTX(), bus_test_record, &r), SBR_OK);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.done, 1);
}
END_TEST

/* --- the in-process log alone ------------------------------------------------ */

START_TEST(local_trim_is_exact)
{
    local_rooms *lr = local_rooms_new();
    uint64_t first = local_rooms_append(lr, "room:x", "a", 1, "", 3, 1000, 5000);
    ck_assert_uint_eq(first, 5000u * 1000u + 1);
    for (int i = 0; i < 4; i++)
        local_rooms_append(lr, "room:x", "b", 1, "", 3, 1000, 5000);
    ck_assert_uint_eq(local_rooms_events(lr), 3);
    const char *topics[] = {"room:x"};
    struct local_rooms_answer a;
    /* The two oldest were dropped: a replay from before them is incomplete, one from after is whole. */
    sbr_room_replay req = {sizeof(req), topics, 1, first, 3, 100, {0}};
    ck_assert_int_eq(local_rooms_replay(lr, &req, 5000, &a), 0);
    ck_assert_int_eq(a.reply.complete, 0);
    local_rooms_answer_clear(&a);
    req.after = first + 1;
    ck_assert_int_eq(local_rooms_replay(lr, &req, 5000, &a), 0);
    ck_assert_int_eq(a.reply.complete, 1);
    ck_assert_uint_eq(a.reply.n, 3);
    ck_assert_uint_eq(a.reply.offsets[0], first + 2);
    ck_assert_uint_eq(a.reply.last, first + 4);
    local_rooms_answer_clear(&a);
    local_rooms_free(lr);
}
END_TEST

START_TEST(local_logs_expire)
{
    local_rooms *lr = local_rooms_new();
    local_rooms_append(lr, "room:x", "a", 1, "", 10, 1000, 5000);
    local_rooms_append(lr, "room:y", "a", 1, "", 10, 3000, 5000);
    local_rooms_append(lr, "room:x", "a", 1, "", 10, 1000, 5500);
    ck_assert_uint_eq(local_rooms_next_deadline(lr), 6500);
    local_rooms_purge(lr, 6499);
    ck_assert_uint_eq(local_rooms_count(lr), 2);
    local_rooms_purge(lr, 6500);
    ck_assert_uint_eq(local_rooms_count(lr), 1);
    ck_assert_uint_eq(local_rooms_events(lr), 1);
    ck_assert_uint_eq(local_rooms_next_deadline(lr), 8000);
    /* The sequence goes on after a log went. */
    uint64_t next = local_rooms_append(lr, "room:x", "a", 1, "", 10, 1000, 9000);
    ck_assert_uint_eq(next, 5000u * 1000u + 4);
    local_rooms_purge(lr, 20000);
    ck_assert_uint_eq(local_rooms_count(lr), 0);
    ck_assert_uint_eq(local_rooms_next_deadline(lr), 0);
    local_rooms_free(lr);
}
END_TEST

static void add_shared_cases(TCase *tc)
{
    tcase_add_test(tc, publish_hands_back_in_order);
    tcase_add_test(tc, replay_by_offset_across_rooms);
    tcase_add_test(tc, replay_incomplete_past_the_cap_or_the_total);
    tcase_add_test(tc, flush_answers_once);
}

int main(void)
{
    Suite *s = suite_create("bus rooms");
    TCase *local = tcase_create("bus-local");
    tcase_add_checked_fixture(local, setup_local, teardown);
    add_shared_cases(local);
    suite_add_tcase(s, local);
    TCase *pure = tcase_create("local_rooms");
    tcase_add_test(pure, local_trim_is_exact);
    tcase_add_test(pure, local_logs_expire);
    suite_add_tcase(s, pure);

    int have_redis = redis_server_available() && access(SBR_TEST_BUILD_DIR "/plugins/bus-redis.so", R_OK) == 0;
    if (have_redis) {
        if (redis_server_start(&server, 0, NULL) != 0) {
            fprintf(stderr, "cannot start redis-server\n");
            return EXIT_FAILURE;
        }
        TCase *redis = tcase_create("bus-redis");
        tcase_add_checked_fixture(redis, setup_redis, teardown);
        tcase_set_timeout(redis, 20);
        add_shared_cases(redis);
        tcase_add_test(redis, redis_away_refuses);
        tcase_add_test(redis, redis_flush_refused_still_answers);
        suite_add_tcase(s, redis);
    } else {
        fprintf(stderr, "SKIP bus-redis cases: redis-server is not installed or bus-redis.so is not built\n");
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (have_redis)
        redis_server_cleanup(&server);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
