/* core/util/id_diff: what two lists of ids differ by, each id once. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/id_diff.h"

/* The list as "a,b,c" in sorted order (the diff's order is not promised). */
static const char *joined(const char **list, size_t n)
{
    static char out[4][256];
    static int turn;
    char *buf = out[turn++ % 4];
    const char *sorted[32];
    ck_assert_uint_le(n, 32);
    if (n)
        memcpy(sorted, list, n * sizeof(*sorted));
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) > 0; j--) {
            const char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, sorted[i]);
    }
    return buf;
}

START_TEST(test_added_and_removed)
{
    const char *before[] = {"s1", "s2", "s3"};
    const char *after[] = {"s4", "s2", "s5"};
    struct id_diff d;
    ck_assert_int_eq(id_diff_compute(before, 3, after, 3, &d), 0);
    ck_assert_str_eq(joined(d.added, d.n_added), "s4,s5");
    ck_assert_str_eq(joined(d.removed, d.n_removed), "s1,s3");
    /* Pointers into the lists given, not copies. */
    for (size_t i = 0; i < d.n_added; i++)
        ck_assert(d.added[i] == after[0] || d.added[i] == after[2]);
    id_diff_free(&d);
    ck_assert_ptr_null(d.added);
}
END_TEST

START_TEST(test_duplicates_once)
{
    const char *before[] = {"a", "a", "b"};
    const char *after[] = {"c", "c", "b", "b"};
    struct id_diff d;
    ck_assert_int_eq(id_diff_compute(before, 3, after, 4, &d), 0);
    ck_assert_str_eq(joined(d.added, d.n_added), "c");
    ck_assert_str_eq(joined(d.removed, d.n_removed), "a");
    id_diff_free(&d);
}
END_TEST

START_TEST(test_empty_and_null)
{
    const char *some[] = {"x", "y"};
    struct id_diff d;
    ck_assert_int_eq(id_diff_compute(NULL, 0, NULL, 0, &d), 0);
    ck_assert_uint_eq(d.n_added + d.n_removed, 0);
    id_diff_free(&d);
    ck_assert_int_eq(id_diff_compute(NULL, 5, some, 2, &d), 0); /* a NULL list is empty whatever its count */
    ck_assert_str_eq(joined(d.added, d.n_added), "x,y");
    ck_assert_uint_eq(d.n_removed, 0);
    id_diff_free(&d);
    ck_assert_int_eq(id_diff_compute(some, 2, some, 2, &d), 0);
    ck_assert_uint_eq(d.n_added + d.n_removed, 0);
    id_diff_free(&d);
}
END_TEST

START_TEST(test_long_lists)
{
    /* 5000 each, half shared: sorted merging keeps this instant. */
    enum { N = 5000 };
    char (*names)[16] = malloc(2 * N * sizeof(*names));
    const char **before = malloc(N * sizeof(*before)), **after = malloc(N * sizeof(*after));
    for (int i = 0; i < 2 * N; i++)
        snprintf(names[i], sizeof(names[i]), "srv%d", i);
    for (int i = 0; i < N; i++) {
        before[i] = names[i];             /* 0 .. N-1 */
        after[i] = names[N / 2 + i];      /* N/2 .. N/2+N-1 */
    }
    struct id_diff d;
    ck_assert_int_eq(id_diff_compute(before, N, after, N, &d), 0);
    ck_assert_uint_eq(d.n_added, N / 2);
    ck_assert_uint_eq(d.n_removed, N / 2);
    id_diff_free(&d);
    free(names);
    free(before);
    free(after);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("id_diff");
    TCase *tc = tcase_create("id_diff");
    tcase_add_test(tc, test_added_and_removed);
    tcase_add_test(tc, test_duplicates_once);
    tcase_add_test(tc, test_empty_and_null);
    tcase_add_test(tc, test_long_lists);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
