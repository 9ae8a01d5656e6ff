/* core/eio/eio_buf.c: one encoding, a precomputed frame, reference counts. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "eio/eio_buf.h"

START_TEST(frame_precedes_packet)
{
    size_t live = eio_buf_live();
    struct eio_buf *b = eio_buf_new("42[\"a\"]", 7, 0);
    size_t n;
    const uint8_t *f = eio_buf_frame(b, &n);
    ck_assert_uint_eq(n, 9);
    ck_assert_int_eq(f[0], 0x81);
    ck_assert_int_eq(f[1], 7);
    ck_assert_mem_eq(f + 2, "42[\"a\"]", 7);
    ck_assert_ptr_eq((const char *)f + 2, eio_buf_data(b));
    ck_assert_uint_eq(eio_buf_live(), live + 1);
    eio_buf_unref(b);
    ck_assert_uint_eq(eio_buf_live(), live);
}
END_TEST

START_TEST(large_and_binary)
{
    char *big = malloc(70000);
    memset(big, 'x', 70000);
    struct eio_buf *b = eio_buf_new(big, 70000, 1);
    size_t n;
    const uint8_t *f = eio_buf_frame(b, &n);
    ck_assert_uint_eq(n, 70010);
    ck_assert_int_eq(f[0], 0x82);
    ck_assert_int_eq(f[1], 127);
    ck_assert_int_eq(b->binary, 1);
    eio_buf_unref(b);
    free(big);
}
END_TEST

START_TEST(shared_references)
{
    size_t live = eio_buf_live();
    struct eio_buf *b = eio_buf_new("4x", 2, 0);
    for (int i = 0; i < 100; i++)
        eio_buf_ref(b);
    for (int i = 0; i < 100; i++)
        eio_buf_unref(b);
    ck_assert_uint_eq(eio_buf_live(), live + 1);
    eio_buf_unref(b);
    ck_assert_uint_eq(eio_buf_live(), live);
    eio_buf_unref(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eio_buf");
    TCase *tc = tcase_create("buf");
    tcase_add_test(tc, frame_precedes_packet);
    tcase_add_test(tc, large_and_binary);
    tcase_add_test(tc, shared_references);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
