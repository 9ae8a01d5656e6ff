/* core/util/base64.c: RFC 4648 test vectors, URL alphabet, bad input. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "util/base64.h"

START_TEST(encode_vectors)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char out[16];
    for (size_t i = 0; i < 7; i++) {
        ck_assert_uint_eq(base64_encode((const uint8_t *)in[i], strlen(in[i]), out, 0), strlen(want[i]));
        ck_assert_str_eq(out, want[i]);
    }
}
END_TEST

START_TEST(encode_url)
{
    const uint8_t in[] = {0xfb, 0xff, 0xfe};
    char out[8];
    base64_encode(in, 3, out, 1);
    ck_assert_str_eq(out, "-__-");
    base64_encode(in, 2, out, 1);
    ck_assert_str_eq(out, "-_8");
}
END_TEST

START_TEST(decode_roundtrip)
{
    uint8_t raw[256], back[256];
    char text[BASE64_ENCODED_LEN(256) + 1];
    for (int i = 0; i < 256; i++)
        raw[i] = (uint8_t)i;
    for (size_t n = 0; n <= 256; n += 17) {
        size_t tl = base64_encode(raw, n, text, 0);
        ck_assert_int_eq(base64_decode(text, tl, back), (long)n);
        ck_assert_mem_eq(back, raw, n);
    }
}
END_TEST

START_TEST(decode_bad)
{
    uint8_t out[16];
    ck_assert_int_eq(base64_decode("Zg=", 3, out), -1);     /* length */
    ck_assert_int_eq(base64_decode("Z!==", 4, out), -1);    /* alphabet */
    ck_assert_int_eq(base64_decode("Zg==Zg==", 8, out), -1);/* padding inside */
    ck_assert_int_eq(base64_decode("Z===", 4, out), -1);    /* too much padding */
    ck_assert_int_eq(base64_decode("Zm-_", 4, out), -1);    /* URL alphabet is not accepted */
    ck_assert_int_eq(base64_decode("AQID", 4, out), 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("base64");
    TCase *tc = tcase_create("base64");
    tcase_add_test(tc, encode_vectors);
    tcase_add_test(tc, encode_url);
    tcase_add_test(tc, decode_roundtrip);
    tcase_add_test(tc, decode_bad);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
