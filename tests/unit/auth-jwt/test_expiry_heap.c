/* The expiry heap of auth-jwt against a plain array: random inserts,
 * moves and removals keep the earliest on top and every place right. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "expiry_heap.h"

#define N 2000

static int64_t model[N + 1]; /* deadline by conn id; -1: absent */

static uint64_t model_first(int64_t *deadline)
{
    uint64_t best = 0;
    for (uint64_t c = 1; c <= N; c++)
        if (model[c] >= 0 && (!best || model[c] < model[best]))
            best = c;
    if (best)
        *deadline = model[best];
    return best;
}

START_TEST(test_random_against_a_model)
{
    struct expiry_heap h = {0};
    srand(12345);
    for (uint64_t c = 0; c <= N; c++)
        model[c] = -1;
    for (int step = 0; step < 20000; step++) {
        uint64_t conn = 1 + (uint64_t)(rand() % N);
        if (rand() % 3 == 0) {
            expiry_heap_remove(&h, conn);
            model[conn] = -1;
        } else {
            int64_t deadline = rand() % 100000;
            ck_assert_int_eq(expiry_heap_set(&h, conn, deadline), 0);
            model[conn] = deadline;
        }
        int64_t want = 0;
        const struct expiry_entry *first = expiry_heap_first(&h);
        if (model_first(&want))
            ck_assert_int_eq(first->deadline, want);
        else
            ck_assert_ptr_null(first);
    }
    for (uint64_t c = 1; c <= N; c++) {
        int64_t got = -1;
        ck_assert_int_eq(expiry_heap_get(&h, c, &got), model[c] >= 0);
        if (model[c] >= 0)
            ck_assert_int_eq(got, model[c]);
    }
    /* Draining in order. */
    int64_t last = -1;
    for (const struct expiry_entry *e; (e = expiry_heap_first(&h));) {
        ck_assert_int_ge(e->deadline, last);
        last = e->deadline;
        expiry_heap_remove(&h, e->conn);
    }
    ck_assert_uint_eq(h.n, 0);
    ck_assert_uint_eq(h.n_places, 0);
    expiry_heap_free(&h);
}
END_TEST

START_TEST(test_large_ids_and_growth)
{
    struct expiry_heap h = {0};
    /* Ids far apart and close together hash into one table. */
    for (uint64_t i = 1; i <= 100000; i++)
        ck_assert_int_eq(expiry_heap_set(&h, i * 1000003ull, (int64_t)(100000 - i)), 0);
    ck_assert_uint_eq(expiry_heap_first(&h)->conn, 100000ull * 1000003ull);
    ck_assert_uint_le(h.n_places * 4, h.cap_places * 3);
    for (uint64_t i = 1; i <= 100000; i += 2)
        expiry_heap_remove(&h, i * 1000003ull);
    ck_assert_uint_eq(h.n, 50000);
    int64_t d;
    ck_assert_int_eq(expiry_heap_get(&h, 3 * 1000003ull, &d), 0);
    ck_assert_int_eq(expiry_heap_get(&h, 4 * 1000003ull, &d), 1);
    ck_assert_int_eq(d, 100000 - 4);
    expiry_heap_free(&h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auth_jwt_expiry_heap");
    TCase *tc = tcase_create("heap");
    tcase_add_test(tc, test_random_against_a_model);
    tcase_add_test(tc, test_large_ids_and_growth);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
