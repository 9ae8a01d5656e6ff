/* The state semantics every bus provider shares, run against bus-local and
 * against bus-redis on a real redis-server, so the two stay one interface.
 * bus-local runs on a settable clock; Redis keeps its own, so its TTL cases
 * use short real TTLs and poll. */
#include "bus_test.h"
#include "redis_server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct redis_server server;
static int on_redis;
static char prefix[64];

#define P() fake_provider()
#define CTX() fake_provider_ctx()

static void setup_local(void)
{
    on_redis = 0;
    ck_assert_int_eq(fake_load("bus-local", NULL), 0);
    ck_assert_ptr_nonnull(P());
}

static void setup_redis(void)
{
    on_redis = 1;
    snprintf(prefix, sizeof(prefix), "test%d:", (int)getpid());
    static const char *config[5];
    config[0] = "url";
    config[1] = server.url;
    config[2] = "key_prefix";
    config[3] = prefix;
    config[4] = NULL;
    fake_real_clock(); /* Redis keeps its own */
    ck_assert_int_eq(fake_load("bus-redis", config), 0);
    ck_assert_ptr_nonnull(P());
}

static int connected(void *ud)
{
    return fake_bus_state() == SBR_BUS_CONNECTED;
}

static void setup_redis_connected(void)
{
    setup_redis();
    ck_assert_msg(fake_run_until_fn(connected, NULL, 5000), "never connected: %s", fake_log());
}

static void teardown(void)
{
    fake_reset();
}

/* Let TTL time pass: the fake clock for bus-local, real time for Redis. */
static void elapse(int ms)
{
    if (on_redis)
        fake_run_for(ms);
    else
        fake_advance(ms);
}

/* TTLs short enough to wait for on Redis, long enough to be exact locally. */
static uint64_t ttl(uint64_t local_ms, uint64_t redis_ms)
{
    return on_redis ? redis_ms : local_ms;
}

START_TEST(kv_set_get)
{
    struct bus_result set = {0}, get = {0}, miss = {0};
    ck_assert_int_eq(P()->kv_set(CTX(), "k", "v\0w", 3, 0, bus_test_record, &set), SBR_OK);
    BUS_WAIT(&set);
    ck_assert_int_eq(set.status, SBR_OK);
    ck_assert_int_eq(P()->kv_get(CTX(), "k", bus_test_record, &get), SBR_OK);
    ck_assert_int_eq(P()->kv_get(CTX(), "missing", bus_test_record, &miss), SBR_OK);
    BUS_WAIT(&get);
    BUS_WAIT(&miss);
    ck_assert_int_eq(get.found, 1);
    ck_assert_uint_eq(get.value_len, 3);
    ck_assert_mem_eq(get.value, "v\0w", 3);
    ck_assert_int_eq(miss.found, 0);
}
END_TEST

START_TEST(kv_overwrite_and_empty_value)
{
    struct bus_result a = {0}, b = {0}, get = {0};
    P()->kv_set(CTX(), "k", "first", 5, 0, bus_test_record, &a);
    P()->kv_set(CTX(), "k", "", 0, 0, bus_test_record, &b);
    BUS_WAIT(&b);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(a.done, 1);
    ck_assert_int_eq(get.found, 1);
    ck_assert_uint_eq(get.value_len, 0);
    ck_assert_str_eq(get.value, "");
}
END_TEST

START_TEST(kv_ttl)
{
    uint64_t t = ttl(1000, 150);
    struct bus_result set = {0}, get = {0};
    P()->kv_set(CTX(), "k", "v", 1, t, bus_test_record, &set);
    BUS_WAIT(&set);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(get.found, 1);
    if (!on_redis) {
        fake_advance(999);
        struct bus_result still = {0};
        P()->kv_get(CTX(), "k", bus_test_record, &still);
        BUS_WAIT(&still);
        ck_assert_int_eq(still.found, 1);
        fake_advance(1);
    }
    /* Gone once the TTL passed (polled on Redis, bounded). */
    int gone = 0;
    for (int i = 0; i < 40 && !gone; i++) {
        struct bus_result later = {0};
        P()->kv_get(CTX(), "k", bus_test_record, &later);
        BUS_WAIT(&later);
        gone = !later.found;
        if (!gone)
            fake_run_for(50);
    }
    ck_assert_msg(gone, "key outlived its TTL");
}
END_TEST

START_TEST(kv_del)
{
    struct bus_result set = {0}, del = {0}, again = {0}, get = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &set);
    P()->kv_del(CTX(), "k", bus_test_record, &del);
    P()->kv_del(CTX(), "k", bus_test_record, &again);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(del.done, 1);
    ck_assert_int_eq(del.changed, 1);
    ck_assert_int_eq(again.changed, 0);
    ck_assert_int_eq(get.found, 0);
}
END_TEST

START_TEST(callbacks_never_synchronous)
{
    struct bus_result r[8];
    memset(r, 0, sizeof(r));
    ck_assert_int_eq(P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r[0]), SBR_OK);
    ck_assert_int_eq(r[0].done, 0);
    ck_assert_int_eq(P()->kv_get(CTX(), "k", bus_test_record, &r[1]), SBR_OK);
    ck_assert_int_eq(r[1].done, 0);
    ck_assert_int_eq(P()->kv_del(CTX(), "k", bus_test_record, &r[2]), SBR_OK);
    ck_assert_int_eq(r[2].done, 0);
    ck_assert_int_eq(P()->reserve(CTX(), "r", 1000, bus_test_record, &r[3]), SBR_OK);
    ck_assert_int_eq(r[3].done, 0);
    ck_assert_int_eq(P()->map_set(CTX(), "m", "f", "v", 1000, bus_test_record, &r[4]), SBR_OK);
    ck_assert_int_eq(r[4].done, 0);
    ck_assert_int_eq(P()->map_count(CTX(), "m", bus_test_record, &r[5]), SBR_OK);
    ck_assert_int_eq(r[5].done, 0);
    ck_assert_int_eq(P()->map_get_all(CTX(), "m", bus_test_record, &r[6]), SBR_OK);
    ck_assert_int_eq(r[6].done, 0);
    ck_assert_int_eq(P()->map_del(CTX(), "m", "f", bus_test_record, &r[7]), SBR_OK);
    ck_assert_int_eq(r[7].done, 0);
    BUS_WAIT(&r[7]);
    /* Exactly once each, in the order asked. */
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(r[i].done, 1);
    fake_run_for(20);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(r[i].done, 1);
}
END_TEST

START_TEST(null_done_is_allowed)
{
    struct bus_result get = {0};
    ck_assert_int_eq(P()->kv_set(CTX(), "k", "v", 1, 0, NULL, NULL), SBR_OK);
    ck_assert_int_eq(P()->map_set(CTX(), "m", "f", "v", 0, NULL, NULL), SBR_OK);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(get.found, 1);
}
END_TEST

START_TEST(bad_arguments_refused_without_callback)
{
    struct bus_result r = {0};
    ck_assert_int_eq(P()->kv_set(CTX(), NULL, "v", 1, 0, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->kv_set(CTX(), "k", NULL, 3, 0, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->kv_get(CTX(), NULL, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->reserve(CTX(), NULL, 10, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->map_set(CTX(), "m", NULL, "v", 10, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->map_set(CTX(), "m", "f", NULL, 10, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->map_del(CTX(), "m", NULL, bus_test_record, &r), SBR_ERR_INVALID);
    ck_assert_int_eq(P()->map_get_all(CTX(), NULL, bus_test_record, &r), SBR_ERR_INVALID);
    fake_run_for(20);
    ck_assert_int_eq(r.done, 0);
}
END_TEST

#define RESERVE_CALLS 50

START_TEST(reserve_under_contention)
{
    struct bus_result r[RESERVE_CALLS];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < RESERVE_CALLS; i++)
        ck_assert_int_eq(P()->reserve(CTX(), "slot", 5000, bus_test_record, &r[i]), SBR_OK);
    BUS_WAIT(&r[RESERVE_CALLS - 1]);
    int acquired = 0;
    for (int i = 0; i < RESERVE_CALLS; i++) {
        ck_assert_int_eq(r[i].done, 1);
        ck_assert_int_eq(r[i].status, SBR_OK);
        if (r[i].acquired) {
            acquired++;
            ck_assert_int_eq(i, 0);
        } else {
            ck_assert_int_gt(r[i].remaining_ms, 0);
            ck_assert_int_le(r[i].remaining_ms, 5000);
        }
    }
    ck_assert_int_eq(acquired, 1);
}
END_TEST

START_TEST(reserve_remaining_ms)
{
    uint64_t t = ttl(1000, 300);
    struct bus_result first = {0}, second = {0};
    P()->reserve(CTX(), "slot", t, bus_test_record, &first);
    BUS_WAIT(&first);
    ck_assert_int_eq(first.acquired, 1);
    elapse(on_redis ? 100 : 400);
    P()->reserve(CTX(), "slot", t, bus_test_record, &second);
    BUS_WAIT(&second);
    ck_assert_int_eq(second.acquired, 0);
    if (on_redis) {
        ck_assert_int_gt(second.remaining_ms, 0);
        ck_assert_int_le(second.remaining_ms, 200);
    } else {
        ck_assert_int_eq(second.remaining_ms, 600);
        fake_advance(599);
        struct bus_result held = {0};
        P()->reserve(CTX(), "slot", t, bus_test_record, &held);
        BUS_WAIT(&held);
        ck_assert_int_eq(held.acquired, 0);
        ck_assert_int_eq(held.remaining_ms, 1);
        fake_advance(1);
    }
    int acquired = 0;
    for (int i = 0; i < 40 && !acquired; i++) {
        struct bus_result again = {0};
        P()->reserve(CTX(), "slot", t, bus_test_record, &again);
        BUS_WAIT(&again);
        acquired = again.acquired;
        if (!acquired)
            fake_run_for(25);
    }
    ck_assert_msg(acquired, "reservation outlived its TTL");
}
END_TEST

START_TEST(reserve_and_kv_share_keys)
{
    struct bus_result res = {0}, get = {0}, del = {0}, again = {0};
    P()->reserve(CTX(), "slot", 60000, bus_test_record, &res);
    P()->kv_get(CTX(), "slot", bus_test_record, &get);
    P()->kv_del(CTX(), "slot", bus_test_record, &del);
    P()->reserve(CTX(), "slot", 60000, bus_test_record, &again);
    BUS_WAIT(&again);
    ck_assert_int_eq(res.acquired, 1);
    ck_assert_int_eq(get.found, 1);
    ck_assert_int_eq(del.changed, 1);
    ck_assert_int_eq(again.acquired, 1);
}
END_TEST

/* incr: one answer, its status and the counter's new value. */
static int64_t incr(const char *key, int64_t delta, uint64_t ttl_ms, int *status)
{
    struct bus_result r = {0};
    ck_assert_int_eq(P()->incr(CTX(), key, delta, ttl_ms, bus_test_record, &r), SBR_OK);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.done, 1);
    if (status)
        *status = r.status;
    else
        ck_assert_int_eq(r.status, SBR_OK);
    return r.count;
}

START_TEST(incr_counts)
{
    ck_assert_int_eq(incr("c", 1, 0, NULL), 1);
    ck_assert_int_eq(incr("c", 5, 0, NULL), 6);
    ck_assert_int_eq(incr("c", -8, 0, NULL), -2);
    ck_assert_int_eq(incr("other", 0, 0, NULL), 0);
    /* Counters live among the keys: kv_get reads them, kv_del resets them,
     * a kv_set integer is counted on. */
    struct bus_result get = {0}, del = {0}, set = {0};
    P()->kv_get(CTX(), "c", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(get.found, 1);
    ck_assert_str_eq(get.value, "-2");
    P()->kv_del(CTX(), "c", bus_test_record, &del);
    BUS_WAIT(&del);
    ck_assert_int_eq(incr("c", 3, 0, NULL), 3);
    P()->kv_set(CTX(), "c", "40", 2, 0, bus_test_record, &set);
    BUS_WAIT(&set);
    ck_assert_int_eq(incr("c", 2, 0, NULL), 42);
}
END_TEST

START_TEST(incr_refuses_what_is_no_integer)
{
    struct bus_result set = {0}, big = {0};
    P()->kv_set(CTX(), "text", "abc", 3, 0, bus_test_record, &set);
    P()->kv_set(CTX(), "max", "9223372036854775807", 19, 0, bus_test_record, &big);
    BUS_WAIT(&big);
    int status = 0;
    incr("text", 1, 0, &status);
    ck_assert_int_eq(status, SBR_ERR_INVALID);
    incr("max", 1, 0, &status);
    ck_assert_int_eq(status, SBR_ERR_INVALID);
    ck_assert_int_eq(incr("max", -7, 0, NULL), INT64_MAX - 7);
    ck_assert_int_eq(P()->incr(CTX(), NULL, 1, 0, bus_test_record, &set), SBR_ERR_INVALID);
}
END_TEST

/* The first incr sets the window's end; later ones keep it. */
START_TEST(incr_fixed_window)
{
    uint64_t t = ttl(1000, 400);
    ck_assert_int_eq(incr("w", 1, t, NULL), 1);
    elapse(on_redis ? 150 : 600);
    ck_assert_int_eq(incr("w", 1, t, NULL), 2);
    if (!on_redis) {
        fake_advance(399);
        ck_assert_int_eq(incr("w", 1, t, NULL), 3);
        fake_advance(1);
        ck_assert_int_eq(incr("w", 1, t, NULL), 1);
        return;
    }
    /* On Redis: the window ends about t after the first incr, not after the last. */
    int restarted = 0;
    for (int i = 0; i < 40 && !restarted; i++) {
        fake_run_for(25);
        struct bus_result get = {0};
        P()->kv_get(CTX(), "w", bus_test_record, &get);
        BUS_WAIT(&get);
        restarted = !get.found;
    }
    ck_assert_msg(restarted, "the window did not end");
    ck_assert_int_eq(incr("w", 1, t, NULL), 1);
}
END_TEST

#define INCR_CALLS 50

START_TEST(incr_under_contention)
{
    struct bus_result r[INCR_CALLS];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < INCR_CALLS; i++)
        ck_assert_int_eq(P()->incr(CTX(), "hits", 1, 60000, bus_test_record, &r[i]), SBR_OK);
    BUS_WAIT(&r[INCR_CALLS - 1]);
    /* Each call saw its own value, in order: none lost, none twice. */
    for (int i = 0; i < INCR_CALLS; i++) {
        ck_assert_int_eq(r[i].done, 1);
        ck_assert_int_eq(r[i].status, SBR_OK);
        ck_assert_int_eq(r[i].count, i + 1);
    }
}
END_TEST

static int64_t map_count(const char *key)
{
    struct bus_result c = {0};
    ck_assert_int_eq(P()->map_count(CTX(), key, bus_test_record, &c), SBR_OK);
    BUS_WAIT(&c);
    ck_assert_int_eq(c.status, SBR_OK);
    return c.count;
}

START_TEST(map_set_counts)
{
    struct bus_result a = {0}, b = {0}, refresh = {0};
    P()->map_set(CTX(), "m", "f1", "v1", 60000, bus_test_record, &a);
    P()->map_set(CTX(), "m", "f2", "v2", 60000, bus_test_record, &b);
    P()->map_set(CTX(), "m", "f1", "v1b", 60000, bus_test_record, &refresh);
    BUS_WAIT(&refresh);
    ck_assert_int_eq(a.changed, 1);
    ck_assert_int_eq(a.count, 1);
    ck_assert_int_eq(b.changed, 1);
    ck_assert_int_eq(b.count, 2);
    ck_assert_int_eq(refresh.changed, 0);
    ck_assert_int_eq(refresh.count, 2);
    ck_assert_int_eq(map_count("m"), 2);
    ck_assert_int_eq(map_count("other"), 0);
    struct bus_result all = {0};
    P()->map_get_all(CTX(), "m", bus_test_record, &all);
    BUS_WAIT(&all);
    ck_assert_str_eq(bus_test_field(&all, "f1"), "v1b");
}
END_TEST

START_TEST(map_per_field_expiry)
{
    struct bus_result a = {0}, b = {0};
    P()->map_set(CTX(), "m", "short", "1", ttl(1000, 150), bus_test_record, &a);
    P()->map_set(CTX(), "m", "long", "2", ttl(3000, 60000), bus_test_record, &b);
    BUS_WAIT(&b);
    ck_assert_int_eq(b.count, 2);
    if (!on_redis) {
        fake_advance(999);
        ck_assert_int_eq(map_count("m"), 2);
        fake_advance(1);
    }
    int64_t n = 2;
    for (int i = 0; i < 40 && n != 1; i++) {
        n = map_count("m");
        if (n != 1)
            fake_run_for(50);
    }
    ck_assert_int_eq(n, 1);
    struct bus_result all = {0};
    P()->map_get_all(CTX(), "m", bus_test_record, &all);
    BUS_WAIT(&all);
    ck_assert_uint_eq(all.n, 1);
    ck_assert_str_eq(all.fields[0], "long");
    ck_assert_str_eq(all.values[0], "2");
    /* The field that expired is new again when set. */
    struct bus_result again = {0};
    P()->map_set(CTX(), "m", "short", "3", 60000, bus_test_record, &again);
    BUS_WAIT(&again);
    ck_assert_int_eq(again.changed, 1);
    ck_assert_int_eq(again.count, 2);
}
END_TEST

START_TEST(map_refresh_extends_ttl)
{
    uint64_t t = ttl(1000, 600);
    struct bus_result a = {0}, b = {0};
    P()->map_set(CTX(), "m", "f", "v", t, bus_test_record, &a);
    BUS_WAIT(&a);
    elapse(on_redis ? 300 : 800);
    P()->map_set(CTX(), "m", "f", "v", t, bus_test_record, &b);
    BUS_WAIT(&b);
    ck_assert_int_eq(b.changed, 0);
    elapse(on_redis ? 400 : 800);
    ck_assert_int_eq(map_count("m"), 1);
}
END_TEST

START_TEST(map_del_counts)
{
    struct bus_result a = {0}, b = {0}, del = {0}, again = {0}, last = {0};
    P()->map_set(CTX(), "m", "f1", "v", 60000, bus_test_record, &a);
    P()->map_set(CTX(), "m", "f2", "v", 0, bus_test_record, &b);
    P()->map_del(CTX(), "m", "f1", bus_test_record, &del);
    P()->map_del(CTX(), "m", "f1", bus_test_record, &again);
    P()->map_del(CTX(), "m", "f2", bus_test_record, &last);
    BUS_WAIT(&last);
    ck_assert_int_eq(del.changed, 1);
    ck_assert_int_eq(del.count, 1);
    ck_assert_int_eq(again.changed, 0);
    ck_assert_int_eq(again.count, 1);
    ck_assert_int_eq(last.changed, 1);
    ck_assert_int_eq(last.count, 0);
    ck_assert_int_eq(map_count("m"), 0);
    struct bus_result none = {0};
    P()->map_del(CTX(), "nothing", "f", bus_test_record, &none);
    BUS_WAIT(&none);
    ck_assert_int_eq(none.changed, 0);
    ck_assert_int_eq(none.count, 0);
}
END_TEST

START_TEST(map_get_all_live_fields)
{
    char field[32], value[32];
    struct bus_result set[20];
    memset(set, 0, sizeof(set));
    for (int i = 0; i < 20; i++) {
        snprintf(field, sizeof(field), "user:%d", i);
        snprintf(value, sizeof(value), "{\"status\":\"s%d\"}", i);
        P()->map_set(CTX(), "presence", field, value, i % 2 ? 60000 : ttl(1000, 150), bus_test_record, &set[i]);
    }
    BUS_WAIT(&set[19]);
    struct bus_result all = {0};
    P()->map_get_all(CTX(), "presence", bus_test_record, &all);
    BUS_WAIT(&all);
    ck_assert_uint_eq(all.n, 20);
    ck_assert_int_eq(all.count, 20);
    elapse(on_redis ? 0 : 1000);
    int64_t n = 20;
    for (int i = 0; i < 40 && n != 10; i++) {
        n = map_count("presence");
        if (n != 10)
            fake_run_for(50);
    }
    ck_assert_int_eq(n, 10);
    struct bus_result live = {0};
    P()->map_get_all(CTX(), "presence", bus_test_record, &live);
    BUS_WAIT(&live);
    ck_assert_uint_eq(live.n, 10);
    for (int i = 1; i < 20; i += 2) {
        snprintf(field, sizeof(field), "user:%d", i);
        snprintf(value, sizeof(value), "{\"status\":\"s%d\"}", i);
        ck_assert_ptr_nonnull(bus_test_field(&live, field));
        ck_assert_str_eq(bus_test_field(&live, field), value);
    }
    struct bus_result empty = {0};
    P()->map_get_all(CTX(), "nobody", bus_test_record, &empty);
    BUS_WAIT(&empty);
    ck_assert_uint_eq(empty.n, 0);
}
END_TEST

START_TEST(kv_and_maps_are_separate)
{
    struct bus_result set = {0}, m = {0}, get = {0};
    P()->kv_set(CTX(), "same", "v", 1, 0, bus_test_record, &set);
    P()->map_set(CTX(), "same", "f", "w", 0, bus_test_record, &m);
    P()->kv_get(CTX(), "same", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(m.status, SBR_OK);
    ck_assert_int_eq(m.count, 1);
    ck_assert_str_eq(get.value, "v");
}
END_TEST

START_TEST(unload_with_replies_pending)
{
    struct bus_result r = {0};
    P()->kv_set(CTX(), "k", "v", 1, 1000, bus_test_record, &r);
    P()->map_set(CTX(), "m", "f", "v", 1000, bus_test_record, &r);
    /* teardown unloads at once: nothing may leak or fire afterwards. */
}
END_TEST

static int store_empty(void *ud)
{
    return fake_metric("superbot_bus_local_entries", NULL) == 0;
}

/* Expired data goes away with nobody reading it, and then nothing is left
 * running: an idle store costs no wake-ups. */
START_TEST(idle_expiry_frees_and_sleeps)
{
    struct bus_result a = {0}, b = {0};
    P()->kv_set(CTX(), "k", "v", 1, 30, bus_test_record, &a);
    P()->map_set(CTX(), "m", "f", "v", 40, bus_test_record, &b);
    BUS_WAIT(&b);
    ck_assert(fake_metric("superbot_bus_local_entries", NULL) == 2);
    ck_assert_int_eq(fake_active_timers(), 1);
    fake_advance(40);
    ck_assert_msg(fake_run_until_fn(store_empty, NULL, 2000), "expired entries were never dropped");
    ck_assert_int_eq(fake_active_timers(), 0);
}
END_TEST

static void add_shared_cases(TCase *tc)
{
    tcase_add_test(tc, kv_set_get);
    tcase_add_test(tc, kv_overwrite_and_empty_value);
    tcase_add_test(tc, kv_ttl);
    tcase_add_test(tc, kv_del);
    tcase_add_test(tc, callbacks_never_synchronous);
    tcase_add_test(tc, null_done_is_allowed);
    tcase_add_test(tc, bad_arguments_refused_without_callback);
    tcase_add_test(tc, reserve_under_contention);
    tcase_add_test(tc, reserve_remaining_ms);
    tcase_add_test(tc, reserve_and_kv_share_keys);
    tcase_add_test(tc, incr_counts);
    tcase_add_test(tc, incr_refuses_what_is_no_integer);
    tcase_add_test(tc, incr_fixed_window);
    tcase_add_test(tc, incr_under_contention);
    tcase_add_test(tc, map_set_counts);
    tcase_add_test(tc, map_per_field_expiry);
    tcase_add_test(tc, map_refresh_extends_ttl);
    tcase_add_test(tc, map_del_counts);
    tcase_add_test(tc, map_get_all_live_fields);
    tcase_add_test(tc, kv_and_maps_are_separate);
    tcase_add_test(tc, unload_with_replies_pending);
}

int main(void)
{
    Suite *s = suite_create("bus state");
    TCase *local = tcase_create("bus-local");
    tcase_add_checked_fixture(local, setup_local, teardown);
    add_shared_cases(local);
    tcase_add_test(local, idle_expiry_frees_and_sleeps);
    suite_add_tcase(s, local);

    int have_redis = redis_server_available() && access(SBR_TEST_BUILD_DIR "/plugins/bus-redis.so", R_OK) == 0;
    if (have_redis) {
        if (redis_server_start(&server, 0, NULL) != 0) {
            fprintf(stderr, "cannot start redis-server\n");
            return EXIT_FAILURE;
        }
        TCase *redis = tcase_create("bus-redis");
        tcase_add_checked_fixture(redis, setup_redis_connected, teardown);
        add_shared_cases(redis);
        suite_add_tcase(s, redis);
    } else {
        fprintf(stderr, "SKIP bus-redis cases: redis-server is not installed (apt-get install redis-server) or bus-redis.so is not built\n");
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (have_redis)
        redis_server_cleanup(&server);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
