/* The receivers' duplicate filter of bus-redis: a worker's messages are
 * delivered once, in order, even when it sends some of them again after a
 * lost link; each worker, and each lane (cluster slot) of a worker, is
 * counted on its own; silent workers are forgotten once many are known. */
#include "redis_dedup.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define T0 1750000000000ull

static redis_dedup *dd;

static void setup(void)
{
    dd = redis_dedup_new();
    ck_assert_ptr_nonnull(dd);
}

static void teardown(void)
{
    redis_dedup_free(dd);
}

START_TEST(resent_messages_are_dropped)
{
    const char *a = "aaaaaaaaaaaaaaaa";
    /* 1 2 3 arrive, the link of a dies before Redis answered 2 and 3, and
     * a sends 2 3 again, then 4. */
    const uint64_t seen[] = {1, 2, 3, 2, 3, 4};
    const int want[] = {1, 1, 1, 0, 0, 1};
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
        ck_assert_int_eq(redis_dedup_accept(dd, a, 0, seen[i], T0), want[i]);
}
END_TEST

START_TEST(gaps_are_other_topics)
{
    const char *a = "aaaaaaaaaaaaaaaa";
    /* Numbers count every message of a, on every topic: a receiver sees gaps. */
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 10, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 17, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 12, T0), 0);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 18, T0), 1);
}
END_TEST

START_TEST(origins_are_independent)
{
    const char *a = "aaaaaaaaaaaaaaaa", *b = "bbbbbbbbbbbbbbbb";
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 5, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, b, 0, 1, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, b, 0, 2, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 5, T0), 0);
    ck_assert_uint_eq(redis_dedup_count(dd), 2);
    /* Only the first REDIS_ENVELOPE_ID_LEN bytes name the origin. */
    ck_assert_int_eq(redis_dedup_accept(dd, "aaaaaaaaaaaaaaaaXYZ", 0, 5, T0), 0);
}
END_TEST

START_TEST(silent_origins_are_forgotten)
{
    char id[17];
    for (int i = 0; i < REDIS_DEDUP_KEEP; i++) {
        snprintf(id, sizeof(id), "%016x", i);
        ck_assert_int_eq(redis_dedup_accept(dd, id, 0, 1, T0), 1);
    }
    ck_assert_uint_eq(redis_dedup_count(dd), REDIS_DEDUP_KEEP);
    /* Origin 0 keeps talking; the others go silent for over an hour. */
    ck_assert_int_eq(redis_dedup_accept(dd, "0000000000000000", 0, 2, T0 + REDIS_DEDUP_FORGET_MS), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, "ffffffffffffffff", 0, 1, T0 + REDIS_DEDUP_FORGET_MS + 1), 1);
    ck_assert_uint_eq(redis_dedup_count(dd), 2);
    ck_assert_int_eq(redis_dedup_accept(dd, "0000000000000000", 0, 2, T0 + REDIS_DEDUP_FORGET_MS + 2), 0);
}
END_TEST

START_TEST(lanes_are_independent)
{
    const char *a = "aaaaaaaaaaaaaaaa";
    /* One sequence per worker, spread over slots whose masters answer at
     * their own pace: 7 (slot 100) may arrive after 9 (slot 200). */
    ck_assert_int_eq(redis_dedup_accept(dd, a, 200, 9, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 100, 7, T0), 1);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 100, 7, T0), 0);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 200, 8, T0), 0);
    ck_assert_int_eq(redis_dedup_accept(dd, a, 0, 3, T0), 1);
    /* Many lanes of one origin (the table grows). */
    for (uint32_t lane = 1; lane < 16384; lane += 7)
        ck_assert_int_eq(redis_dedup_accept(dd, a, lane, 1000 + lane, T0), 1);
    for (uint32_t lane = 1; lane < 16384; lane += 7)
        ck_assert_int_eq(redis_dedup_accept(dd, a, lane, 1000 + lane, T0), 0);
    ck_assert_uint_eq(redis_dedup_count(dd), 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis-dedup");
    TCase *tc = tcase_create("dedup");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, resent_messages_are_dropped);
    tcase_add_test(tc, gaps_are_other_topics);
    tcase_add_test(tc, origins_are_independent);
    tcase_add_test(tc, silent_origins_are_forgotten);
    tcase_add_test(tc, lanes_are_independent);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
