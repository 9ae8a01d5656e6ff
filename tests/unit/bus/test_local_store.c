/* The in-process store on its own, with the clock passed in: expiry order,
 * refreshes moving deadlines, memory given back, and many keys. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <superbot-realtime/plugin.h>

#include "local_store.h"

static local_store *st;

static void setup(void)
{
    st = local_store_new();
    ck_assert_ptr_nonnull(st);
}

static void teardown(void)
{
    local_store_free(st);
}

START_TEST(deadline_follows_the_earliest)
{
    ck_assert_uint_eq(local_store_next_deadline(st), 0);
    ck_assert_int_eq(local_store_kv_set(st, "a", "1", 1, 500, 1000), SBR_OK);
    ck_assert_int_eq(local_store_kv_set(st, "b", "1", 1, 200, 1000), SBR_OK);
    ck_assert_int_eq(local_store_kv_set(st, "forever", "1", 1, 0, 1000), SBR_OK);
    ck_assert_uint_eq(local_store_next_deadline(st), 1200);
    ck_assert_uint_eq(local_store_size(st), 3);
    local_store_purge(st, 1200);
    ck_assert_uint_eq(local_store_next_deadline(st), 1500);
    ck_assert_uint_eq(local_store_size(st), 2);
    local_store_purge(st, 99999);
    ck_assert_uint_eq(local_store_next_deadline(st), 0);
    ck_assert_uint_eq(local_store_size(st), 1);
}
END_TEST

START_TEST(overwrite_moves_the_deadline)
{
    local_store_kv_set(st, "k", "1", 1, 100, 0);
    local_store_kv_set(st, "k", "2", 1, 0, 50);
    ck_assert_uint_eq(local_store_next_deadline(st), 0);
    const char *v;
    size_t len;
    ck_assert_int_eq(local_store_kv_get(st, "k", 1000000, &v, &len), 1);
    ck_assert_str_eq(v, "2");
}
END_TEST

START_TEST(map_fields_expire_one_by_one)
{
    int64_t count;
    ck_assert_int_eq(local_store_map_set(st, "m", "a", "1", 100, 0, &count), 1);
    ck_assert_int_eq(local_store_map_set(st, "m", "b", "2", 300, 0, &count), 1);
    ck_assert_int_eq(local_store_map_set(st, "m", "c", "3", 0, 0, &count), 1);
    ck_assert_int_eq(count, 3);
    /* Refreshing a moves it after b. */
    ck_assert_int_eq(local_store_map_set(st, "m", "a", "1", 400, 50, &count), 0);
    ck_assert_uint_eq(local_store_map_count(st, "m", 299), 3);
    ck_assert_uint_eq(local_store_map_count(st, "m", 300), 2);
    ck_assert_uint_eq(local_store_map_count(st, "m", 450), 1);
    ck_assert_int_eq(local_store_map_del(st, "m", "c", 450, &count), 1);
    ck_assert_int_eq(count, 0);
    ck_assert_uint_eq(local_store_size(st), 0);
    ck_assert_uint_eq(local_store_next_deadline(st), 0);
}
END_TEST

START_TEST(reserve_forever_reports_minus_one)
{
    int64_t remaining;
    ck_assert_int_eq(local_store_reserve(st, "r", 0, 0, &remaining), 1);
    ck_assert_int_eq(local_store_reserve(st, "r", 10, 5, &remaining), 0);
    ck_assert_int_eq(remaining, -1);
}
END_TEST

/* Only a plain decimal integer is a counter; its window is kept. */
START_TEST(incr_parses_strictly_and_keeps_the_window)
{
    int64_t v = 0;
    static const char *const not_counters[] = {"", "+5", " 5", "5 ", "5a", "-", "0x10", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(not_counters) / sizeof(not_counters[0]); i++) {
        ck_assert_int_eq(local_store_kv_set(st, "k", not_counters[i], strlen(not_counters[i]), 0, 1000), SBR_OK);
        ck_assert_msg(local_store_incr(st, "k", 1, 0, 1000, &v) == SBR_ERR_INVALID, "'%s'", not_counters[i]);
    }
    ck_assert_int_eq(local_store_kv_set(st, "k", "-12", 3, 0, 1000), SBR_OK);
    ck_assert_int_eq(local_store_incr(st, "k", 2, 500, 1000, &v), SBR_OK);
    ck_assert_int_eq(v, -10);
    /* It had no expiry: it gets one.  Later increments keep it. */
    ck_assert_uint_eq(local_store_next_deadline(st), 1500);
    ck_assert_int_eq(local_store_incr(st, "k", 1, 9000, 1400, &v), SBR_OK);
    ck_assert_uint_eq(local_store_next_deadline(st), 1500);
    ck_assert_int_eq(local_store_incr(st, "k", 1, 500, 1500, &v), SBR_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_uint_eq(local_store_next_deadline(st), 2000);
    ck_assert_int_eq(local_store_incr(st, "k", INT64_MIN, 0, 1500, &v), SBR_OK);
    ck_assert_int_eq(v, INT64_MIN + 1);
    ck_assert_int_eq(local_store_incr(st, "k", -2, 0, 1500, &v), SBR_ERR_INVALID);
}
END_TEST

START_TEST(many_keys_and_fields)
{
    char key[32];
    int64_t count;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        ck_assert_int_eq(local_store_kv_set(st, key, key, strlen(key), (uint64_t)(i % 100) + 1, 0), SBR_OK);
        ck_assert_int_eq(local_store_map_set(st, "big", key, "v", (uint64_t)(i % 50) + 1, 0, &count), 1);
    }
    ck_assert_uint_eq(local_store_size(st), 40000);
    local_store_purge(st, 50);
    ck_assert_uint_eq(local_store_map_count(st, "big", 50), 0);
    ck_assert_uint_eq(local_store_size(st), 10000);
    const char *v;
    size_t len;
    ck_assert_int_eq(local_store_kv_get(st, "k99", 50, &v, &len), 1);
    ck_assert_int_eq(local_store_kv_get(st, "k49", 50, &v, &len), 0);
    local_store_purge(st, 100);
    ck_assert_uint_eq(local_store_size(st), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("local store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, deadline_follows_the_earliest);
    tcase_add_test(tc, overwrite_moves_the_deadline);
    tcase_add_test(tc, map_fields_expire_one_by_one);
    tcase_add_test(tc, reserve_forever_reports_minus_one);
    tcase_add_test(tc, incr_parses_strictly_and_keeps_the_window);
    tcase_add_test(tc, many_keys_and_fields);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
