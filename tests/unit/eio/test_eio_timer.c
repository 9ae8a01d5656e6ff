/* core/eio/eio_timer.c: per-duration lists of session timers on one
 * libevent timer: deadline order across durations, cancel and re-arm, a
 * handler arming again, and more durations than lists. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "clock.h"
#include "eio/eio_internal.h"
#include "eio/eio_timer.h"

#define MAX_FIRED 64

static struct event_base *base;
static struct eio_session *fired[MAX_FIRED];
static uint64_t fired_at[MAX_FIRED];
static size_t n_fired;
static struct eio_session *rearm_once; /* fire: arm this one again for 10 ms, once */

static void on_fire(struct eio_session *s)
{
    ck_assert_uint_lt(n_fired, MAX_FIRED);
    fired_at[n_fired] = clock_monotonic_ms();
    fired[n_fired++] = s;
    ck_assert_uint_le(s->deadline, fired_at[n_fired - 1]);
    if (s == rearm_once) {
        rearm_once = NULL;
        eio_timer_arm(s, 10);
    }
}

static struct eio_session *session(void)
{
    struct eio_session *s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Run the loop until n timers fired (or a second passed). */
static void run_until(size_t n)
{
    uint64_t end = clock_monotonic_ms() + 1000;
    while (n_fired < n && clock_monotonic_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static void setup(void)
{
    n_fired = 0;
    rearm_once = NULL;
    base = event_base_new();
    ck_assert_int_eq(eio_timer_init(base, on_fire), 0);
}

static void teardown(void)
{
    eio_timer_free();
    event_base_free(base);
}

START_TEST(deadline_order_across_durations)
{
    struct eio_session *a = session(), *b = session(), *c = session();
    eio_timer_arm(a, 60);
    eio_timer_arm(b, 20);
    eio_timer_arm(c, 60);
    run_until(3);
    ck_assert_uint_eq(n_fired, 3);
    ck_assert_ptr_eq(fired[0], b);
    /* a and c: the same duration, armed in that order. */
    ck_assert_ptr_eq(fired[1], a);
    ck_assert_ptr_eq(fired[2], c);
    ck_assert_uint_eq(a->timer_list, 0);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(cancel_and_rearm)
{
    struct eio_session *a = session(), *b = session();
    eio_timer_arm(a, 20);
    eio_timer_arm(b, 40);
    eio_timer_cancel(a); /* the head: b is next */
    eio_timer_cancel(a); /* twice is harmless */
    eio_timer_arm(b, 30); /* replaces the 40 ms deadline */
    uint64_t start = clock_monotonic_ms();
    run_until(1);
    ck_assert_uint_eq(n_fired, 1);
    ck_assert_ptr_eq(fired[0], b);
    ck_assert_uint_ge(fired_at[0] - start, 29);
    ck_assert_uint_lt(fired_at[0] - start, 40 + 200);
    /* Nothing else is armed. */
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_uint_eq(n_fired, 1);
    free(a);
    free(b);
}
END_TEST

START_TEST(a_handler_arms_again)
{
    struct eio_session *a = session(), *b = session();
    rearm_once = a;
    eio_timer_arm(a, 5);
    eio_timer_arm(b, 200);
    run_until(3);
    ck_assert_uint_eq(n_fired, 3);
    ck_assert_ptr_eq(fired[0], a);
    ck_assert_ptr_eq(fired[1], a); /* 5 + 10 ms, before b */
    ck_assert_ptr_eq(fired[2], b);
    free(a);
    free(b);
}
END_TEST

START_TEST(more_durations_than_lists)
{
    enum { N = 40 };
    struct eio_session *s[N];
    /* Distinct durations, armed longest first: every one must still fire
     * in deadline order (on_fire checks none fires early). */
    for (int i = 0; i < N; i++) {
        s[i] = session();
        eio_timer_arm(s[i], (uint64_t)(200 - 4 * i));
    }
    run_until(N);
    ck_assert_uint_eq(n_fired, N);
    for (int i = 1; i < N; i++)
        ck_assert_uint_le(fired[i - 1]->deadline, fired[i]->deadline);
    for (int i = 0; i < N; i++)
        free(s[i]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("eio_timer");
    TCase *t = tcase_create("lists");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, deadline_order_across_durations);
    tcase_add_test(t, cancel_and_rearm);
    tcase_add_test(t, a_handler_arms_again);
    tcase_add_test(t, more_durations_than_lists);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
