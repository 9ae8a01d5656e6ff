/* core/ws/ws_frame.c: client frame headers, server headers, masking. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "ws/ws_frame.h"

static int parse(const uint8_t *p, size_t n, struct ws_frame_header *h, uint16_t *code)
{
    return ws_frame_parse_header(p, n, h, code);
}

START_TEST(masked_text_frame)
{
    const uint8_t f[] = {0x81, 0x85, 1, 2, 3, 4};
    struct ws_frame_header h;
    uint16_t code;
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), 1);
    ck_assert_int_eq(h.fin, 1);
    ck_assert_int_eq(h.opcode, WS_OP_TEXT);
    ck_assert_uint_eq(h.length, 5);
    ck_assert_uint_eq(h.header_length, 6);
    ck_assert_int_eq(h.mask[3], 4);
}
END_TEST

START_TEST(needs_more_bytes)
{
    const uint8_t f[] = {0x82, 0xFE, 0x01, 0x00, 9, 9, 9, 9};
    struct ws_frame_header h;
    uint16_t code;
    for (size_t n = 0; n < sizeof(f); n++)
        ck_assert_int_eq(parse(f, n, &h, &code), 0);
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), 1);
    ck_assert_uint_eq(h.length, 256);
    ck_assert_uint_eq(h.header_length, 8);
}
END_TEST

START_TEST(length_64_bit)
{
    const uint8_t f[] = {0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4};
    struct ws_frame_header h;
    uint16_t code;
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), 1);
    ck_assert_uint_eq(h.length, 65536);
    ck_assert_uint_eq(h.header_length, 14);
}
END_TEST

START_TEST(length_top_bit_refused)
{
    const uint8_t f[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    struct ws_frame_header h;
    uint16_t code;
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
    ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(unmasked_refused)
{
    const uint8_t f[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
    struct ws_frame_header h;
    uint16_t code;
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
    ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL);
}
END_TEST

START_TEST(reserved_bits_refused)
{
    for (uint8_t rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
        const uint8_t f[] = {(uint8_t)(0x81 | rsv), 0x80, 1, 2, 3, 4};
        struct ws_frame_header h;
        uint16_t code;
        ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL);
    }
}
END_TEST

START_TEST(unknown_opcodes_refused)
{
    const uint8_t ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof(ops); i++) {
        const uint8_t f[] = {(uint8_t)(0x80 | ops[i]), 0x80, 1, 2, 3, 4};
        struct ws_frame_header h;
        uint16_t code;
        ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
    }
}
END_TEST

START_TEST(fragmented_control_refused)
{
    const uint8_t ops[] = {WS_OP_CLOSE, WS_OP_PING, WS_OP_PONG};
    for (size_t i = 0; i < sizeof(ops); i++) {
        const uint8_t f[] = {ops[i], 0x80, 1, 2, 3, 4};
        struct ws_frame_header h;
        uint16_t code;
        ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
        ck_assert_uint_eq(code, WS_CLOSE_PROTOCOL);
    }
}
END_TEST

START_TEST(oversized_control_refused)
{
    const uint8_t f[] = {0x89, 0xFE, 0, 126, 1, 2, 3, 4};
    struct ws_frame_header h;
    uint16_t code;
    ck_assert_int_eq(parse(f, sizeof(f), &h, &code), -1);
    const uint8_t ok[] = {0x89, 0x80 | 125, 1, 2, 3, 4};
    ck_assert_int_eq(parse(ok, sizeof(ok), &h, &code), 1);
    ck_assert_uint_eq(h.length, 125);
}
END_TEST

START_TEST(encode_header_sizes)
{
    uint8_t out[WS_FRAME_HEADER_MAX];
    ck_assert_uint_eq(ws_frame_encode_header(out, WS_OP_TEXT, 0), 2);
    ck_assert_int_eq(out[0], 0x81);
    ck_assert_int_eq(out[1], 0);
    ck_assert_uint_eq(ws_frame_encode_header(out, WS_OP_TEXT, 125), 2);
    ck_assert_int_eq(out[1], 125);
    ck_assert_uint_eq(ws_frame_encode_header(out, WS_OP_BINARY, 126), 4);
    ck_assert_int_eq(out[0], 0x82);
    ck_assert_int_eq(out[1], 126);
    ck_assert_int_eq(out[2], 0);
    ck_assert_int_eq(out[3], 126);
    ck_assert_uint_eq(ws_frame_encode_header(out, WS_OP_TEXT, 65535), 4);
    ck_assert_uint_eq(ws_frame_encode_header(out, WS_OP_TEXT, 65536), 10);
    ck_assert_int_eq(out[1], 127);
    ck_assert_int_eq(out[7], 1);
    ck_assert_int_eq(out[8], 0);
    ck_assert_int_eq(out[9], 0);
}
END_TEST

START_TEST(unmask_with_offset)
{
    const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    uint8_t p[] = {0x7f, 0x9f, 0x4d, 0x51, 0x58}; /* "Hello" masked (RFC 6455 5.7) */
    ws_frame_unmask(p, 2, mask, 0);
    ws_frame_unmask(p + 2, 3, mask, 2);
    ck_assert_mem_eq(p, "Hello", 5);
}
END_TEST

START_TEST(close_codes)
{
    ck_assert(ws_close_code_valid(1000));
    ck_assert(ws_close_code_valid(1011));
    ck_assert(ws_close_code_valid(3000));
    ck_assert(ws_close_code_valid(4999));
    ck_assert(!ws_close_code_valid(999));
    ck_assert(!ws_close_code_valid(1004));
    ck_assert(!ws_close_code_valid(1005));
    ck_assert(!ws_close_code_valid(1006));
    ck_assert(!ws_close_code_valid(1015));
    ck_assert(!ws_close_code_valid(2000));
    ck_assert(!ws_close_code_valid(5000));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_frame");
    TCase *tc = tcase_create("frame");
    tcase_add_test(tc, masked_text_frame);
    tcase_add_test(tc, needs_more_bytes);
    tcase_add_test(tc, length_64_bit);
    tcase_add_test(tc, length_top_bit_refused);
    tcase_add_test(tc, unmasked_refused);
    tcase_add_test(tc, reserved_bits_refused);
    tcase_add_test(tc, unknown_opcodes_refused);
    tcase_add_test(tc, fragmented_control_refused);
    tcase_add_test(tc, oversized_control_refused);
    tcase_add_test(tc, encode_header_sizes);
    tcase_add_test(tc, unmask_with_offset);
    tcase_add_test(tc, close_codes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
