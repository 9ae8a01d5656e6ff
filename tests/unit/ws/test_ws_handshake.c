/* core/ws/ws_sha1.c and the accept key of core/ws/ws_handshake.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ws/ws_handshake.h"

static void hex(const uint8_t d[20], char out[41])
{
    for (int i = 0; i < 20; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

START_TEST(sha1_vectors)
{
    uint8_t d[20];
    char h[41];
    ws_sha1((const uint8_t *)"", 0, d);
    hex(d, h);
    ck_assert_str_eq(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    ws_sha1((const uint8_t *)"abc", 3, d);
    hex(d, h);
    ck_assert_str_eq(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ws_sha1((const uint8_t *)two, strlen(two), d);
    hex(d, h);
    ck_assert_str_eq(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    /* Lengths around the padding boundary (55, 56, 64 bytes). */
    char a[130];
    memset(a, 'a', sizeof(a));
    ws_sha1((const uint8_t *)a, 55, d);
    hex(d, h);
    ck_assert_str_eq(h, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    ws_sha1((const uint8_t *)a, 56, d);
    hex(d, h);
    ck_assert_str_eq(h, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
    ws_sha1((const uint8_t *)a, 64, d);
    hex(d, h);
    ck_assert_str_eq(h, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}
END_TEST

START_TEST(accept_key_rfc_example)
{
    char out[WS_ACCEPT_LEN + 1];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_handshake");
    TCase *tc = tcase_create("handshake");
    tcase_add_test(tc, sha1_vectors);
    tcase_add_test(tc, accept_key_rfc_example);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
