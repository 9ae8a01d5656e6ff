/* core/plugin/timers.c: plugin timers on a real event loop: firing once or
 * repeatedly, stopping any of many by id (in any order, from their own
 * callback, or another plugin's id that does not match), and everything a
 * plugin left running dropped when it unloads. */
#include <check.h>
#include <stdlib.h>
#include <event2/event.h>

#include "plugin/plugin.h"

static struct event_base *base;
/* Owners are opaque to the timers: two distinct addresses will do. */
static int owner_a_mark, owner_b_mark;
#define OWNER_A ((sbr_plugin *)&owner_a_mark)
#define OWNER_B ((sbr_plugin *)&owner_b_mark)

static int fired[4096];

static void count(void *arg)
{
    fired[(size_t)arg]++;
}

static void setup(void)
{
    base = event_base_new();
    timers_init(base);
    for (size_t i = 0; i < sizeof(fired) / sizeof(fired[0]); i++)
        fired[i] = 0;
}

static void teardown(void)
{
    timers_unregister_all(OWNER_A);
    timers_unregister_all(OWNER_B);
    event_base_free(base);
}

static void run_ms(int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

START_TEST(many_timers_stopped_by_id_in_any_order)
{
    enum { N = 3000 };
    static sbr_timer_id ids[N];
    static size_t order[N];
    static int stopped[N];
    for (size_t i = 0; i < N; i++) {
        ids[i] = timers_start(OWNER_A, 5, 0, count, (void *)i);
        ck_assert_uint_ne(ids[i], 0);
        ck_assert(i == 0 || ids[i] != ids[i - 1]);
        order[i] = i;
        stopped[i] = 0;
    }
    /* A shuffled half of them stopped. */
    unsigned x = 12345;
    for (size_t i = N - 1; i > 0; i--) {
        x = x * 1103515245u + 12345u;
        size_t j = (x >> 8) % (i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (size_t i = 0; i < N / 2; i++) {
        timers_stop(OWNER_A, ids[order[i]]);
        stopped[order[i]] = 1;
    }
    timers_stop(OWNER_B, ids[order[N - 1]]); /* not B's: nothing happens */
    timers_stop(OWNER_A, 0);                 /* no such timer */
    run_ms(40);
    for (size_t i = 0; i < N; i++)
        ck_assert_msg(fired[i] == (stopped[i] ? 0 : 1), "timer %zu fired %d times", i, fired[i]);
}
END_TEST

static sbr_timer_id self_id;

static void stop_self(void *arg)
{
    count(arg);
    timers_stop(OWNER_A, self_id);
}

START_TEST(a_repeating_timer_stops_itself)
{
    self_id = timers_start(OWNER_A, 1, 1, stop_self, (void *)7);
    ck_assert_uint_ne(self_id, 0);
    run_ms(30);
    ck_assert_int_eq(fired[7], 1);
}
END_TEST

START_TEST(a_repeating_timer_repeats)
{
    sbr_timer_id id = timers_start(OWNER_B, 2, 1, count, (void *)3);
    run_ms(30);
    ck_assert_int_gt(fired[3], 3);
    timers_stop(OWNER_B, id);
    int seen = fired[3];
    run_ms(10);
    ck_assert_int_eq(fired[3], seen);
}
END_TEST

START_TEST(unloading_drops_only_the_plugins_timers)
{
    for (size_t i = 0; i < 100; i++)
        timers_start(i % 2 ? OWNER_A : OWNER_B, 3, 0, count, (void *)i);
    timers_unregister_all(OWNER_A);
    run_ms(20);
    for (size_t i = 0; i < 100; i++)
        ck_assert_int_eq(fired[i], i % 2 ? 0 : 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_timers");
    TCase *tc = tcase_create("timers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, many_timers_stopped_by_id_in_any_order);
    tcase_add_test(tc, a_repeating_timer_stops_itself);
    tcase_add_test(tc, a_repeating_timer_repeats);
    tcase_add_test(tc, unloading_drops_only_the_plugins_timers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
