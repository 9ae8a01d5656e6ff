/* core/eio/eio_packet.c: text packets, \x1e payloads, base64 packets. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "eio/eio_packet.h"

START_TEST(text_packets)
{
    struct eio_packet pk;
    ck_assert_int_eq(eio_packet_decode_text("4hello", 6, &pk), 0);
    ck_assert_int_eq(pk.type, EIO_MESSAGE);
    ck_assert_uint_eq(pk.len, 5);
    ck_assert_mem_eq(pk.data, "hello", 5);
    ck_assert_int_eq(eio_packet_decode_text("2probe", 6, &pk), 0);
    ck_assert_int_eq(pk.type, EIO_PING);
    ck_assert_int_eq(eio_packet_decode_text("6", 1, &pk), 0);
    ck_assert_int_eq(pk.type, EIO_NOOP);
    ck_assert_uint_eq(pk.len, 0);
}
END_TEST

START_TEST(bad_packets)
{
    struct eio_packet pk;
    ck_assert_int_eq(eio_packet_decode_text("", 0, &pk), -1);
    ck_assert_int_eq(eio_packet_decode_text("7", 1, &pk), -1);
    ck_assert_int_eq(eio_packet_decode_text("a", 1, &pk), -1);
    ck_assert_int_eq(eio_packet_decode_text("/4", 2, &pk), -1);
    ck_assert_int_eq(eio_packet_decode_text("\x1e", 1, &pk), -1);
}
END_TEST

START_TEST(payload_split)
{
    const char *p = "4hello\x1e" "2\x1e" "4\xc3\xa9";
    size_t len = strlen(p), pos = 0, n;
    const char *pk;
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 1);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 1);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(pk[0], '2');
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 1);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 0);
}
END_TEST

START_TEST(payload_empty_records)
{
    const char *p = "4a\x1e\x1e" "4b";
    size_t len = strlen(p), pos = 0, n;
    const char *pk;
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 1);
    ck_assert_int_eq(eio_payload_next(p, len, &pos, &pk, &n), 1);
    ck_assert_uint_eq(n, 0); /* an empty record: decode refuses it */
    struct eio_packet e;
    ck_assert_int_eq(eio_packet_decode_text(pk, n, &e), -1);
    pos = 0;
    ck_assert_int_eq(eio_payload_next("", 0, &pos, &pk, &n), 0);
}
END_TEST

START_TEST(base64_packets)
{
    uint8_t out[16];
    ck_assert_int_eq(eio_packet_decode_base64("bAQID", 5, out), 3);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(out[2], 3);
    ck_assert_int_eq(eio_packet_decode_base64("b", 1, out), 0);
    ck_assert_int_eq(eio_packet_decode_base64("bAQI", 4, out), -1);
    ck_assert_int_eq(eio_packet_decode_base64("4AQID", 5, out), -1);
    ck_assert_int_eq(eio_packet_decode_base64("", 0, out), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eio_packet");
    TCase *tc = tcase_create("packet");
    tcase_add_test(tc, text_packets);
    tcase_add_test(tc, bad_packets);
    tcase_add_test(tc, payload_split);
    tcase_add_test(tc, payload_empty_records);
    tcase_add_test(tc, base64_packets);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
