/* core/sio/sio_packet.c: every packet type, and the malformed ones that
 * close a session. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "sio/sio_packet.h"

static int dec(const char *s, struct sio_packet *pk)
{
    return sio_packet_decode(s, strlen(s), pk);
}

START_TEST(connect_packets)
{
    struct sio_packet pk;
    ck_assert_int_eq(dec("0", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_CONNECT);
    ck_assert_str_eq(pk.nsp, "/");
    ck_assert_ptr_null(pk.data);
    ck_assert_int_eq(dec("0{\"token\":\"123\"}", &pk), 0);
    ck_assert(json_is_object(pk.data));
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("0/custom,", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
    ck_assert_int_eq(dec("0/custom", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
    ck_assert_int_eq(dec("0/custom,{\"a\":1}", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
    sio_packet_clear(&pk);
}
END_TEST

START_TEST(event_packets)
{
    struct sio_packet pk;
    ck_assert_int_eq(dec("2[\"message\",1,\"2\",{\"3\":[true]}]", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_EVENT);
    ck_assert_int_eq(pk.has_id, 0);
    ck_assert_uint_eq(json_array_size(pk.data), 4);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("2456[\"message-with-ack\"]", &pk), 0);
    ck_assert_int_eq(pk.has_id, 1);
    ck_assert_uint_eq(pk.id, 456);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("2/custom,7[\"x\"]", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
    ck_assert_uint_eq(pk.id, 7);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("2[42]", &pk), 0); /* numeric event names are allowed */
    sio_packet_clear(&pk);
}
END_TEST

START_TEST(nul_in_strings)
{
    /* \u0000 is valid JSON: accepted as the reference server does, and
     * kept whole (length, and escaped again when dumped). */
    struct sio_packet pk;
    ck_assert_int_eq(dec("2[\"message\",\"a\\u0000b\",{\"k\":[\"\\u0000\"]}]", &pk), 0);
    json_t *s = json_array_get(pk.data, 1);
    ck_assert_uint_eq(json_string_length(s), 3);
    ck_assert_int_eq(memcmp(json_string_value(s), "a\0b", 3), 0);
    char *text = json_dumps(pk.data, JSON_COMPACT);
    ck_assert_str_eq(text, "[\"message\",\"a\\u0000b\",{\"k\":[\"\\u0000\"]}]");
    free(text);
    sio_packet_clear(&pk);
    /* A name with a NUL is not the reserved name it starts with. */
    ck_assert_int_eq(dec("2[\"connect\\u0000x\"]", &pk), 0);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("2[\"connect\"]", &pk), -1);
    ck_assert_int_eq(dec("35[\"\\u0000\"]", &pk), 0);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("0{\"token\":\"a\\u0000\"}", &pk), 0);
    sio_packet_clear(&pk);
}
END_TEST

START_TEST(binary_packets)
{
    struct sio_packet pk;
    ck_assert_int_eq(dec("52-[\"m\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_BINARY_EVENT);
    ck_assert_uint_eq(pk.attachments, 2);
    ck_assert(sio_placeholders_valid(pk.data, 2));
    ck_assert(!sio_placeholders_valid(pk.data, 1));
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("62-789[{\"_placeholder\":true,\"num\":0}]", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_BINARY_ACK);
    ck_assert_uint_eq(pk.id, 789);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("51-/custom,[\"m\",{\"_placeholder\":true,\"num\":0}]", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
    sio_packet_clear(&pk);
}
END_TEST

START_TEST(ack_and_disconnect)
{
    struct sio_packet pk;
    ck_assert_int_eq(dec("31[\"ok\"]", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_ACK);
    sio_packet_clear(&pk);
    ck_assert_int_eq(dec("1", &pk), 0);
    ck_assert_int_eq(pk.type, SIO_DISCONNECT);
    ck_assert_int_eq(dec("1/custom,", &pk), 0);
    ck_assert_str_eq(pk.nsp, "/custom");
}
END_TEST

START_TEST(malformed)
{
    const char *bad[] = {
        "",                          /* empty */
        "7",                         /* unknown type */
        "abc",
        "2",                         /* event without payload */
        "2{}",                       /* event payload not an array */
        "2[]",                       /* no event name */
        "2[{}]",                     /* event name not a string */
        "2[\"connect\"]",            /* reserved name */
        "2[\"disconnecting\"]",
        "2abc[\"m\"]",               /* bad ack id */
        "2[\"m\"",                   /* truncated JSON */
        "2[\"m\"]x",                 /* trailing garbage */
        "0[]",                       /* connect payload not an object */
        "0\"x\"",
        "1{}",                       /* disconnect with payload */
        "3[]",                       /* ack without id */
        "31{}",                      /* ack payload not an array */
        "5[\"m\"]",                  /* binary without attachment count */
        "5x-[\"m\"]",
        "52[\"m\"]",                 /* count without dash */
        "01[]",                      /* connect with an id */
        "2[\"a\",{\"k\":1,\"k\":2}]",  /* duplicate keys */
        "2999999999999999999[\"m\"]",/* id too long */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sio_packet pk;
        ck_assert_msg(dec(bad[i], &pk) == -1, "accepted: %s", bad[i]);
    }
    /* A namespace longer than allowed. */
    char longnsp[400] = "0/";
    memset(longnsp + 2, 'n', 300);
    longnsp[302] = '\0';
    struct sio_packet pk;
    ck_assert_int_eq(dec(longnsp, &pk), -1);
    /* An embedded NUL in the namespace. */
    ck_assert_int_eq(sio_packet_decode("0/a\0b,", 6, &pk), -1);
}
END_TEST

START_TEST(placeholders)
{
    json_error_t err;
    json_t *v = json_loads("[{\"_placeholder\":true,\"num\":-1}]", 0, &err);
    ck_assert(!sio_placeholders_valid(v, 3));
    json_decref(v);
    v = json_loads("[{\"_placeholder\":true,\"num\":\"0\"}]", 0, &err);
    ck_assert(!sio_placeholders_valid(v, 3));
    json_decref(v);
    v = json_loads("[{\"deep\":[{\"_placeholder\":true,\"num\":2}]}]", 0, &err);
    ck_assert(sio_placeholders_valid(v, 3));
    ck_assert(!sio_placeholders_valid(v, 2));
    json_decref(v);
}
END_TEST

START_TEST(encode)
{
    size_t len;
    char *p = sio_packet_encode(SIO_CONNECT, 0, "/", 0, 0, "{\"sid\":\"x\"}", 11, &len);
    ck_assert_str_eq(p, "0{\"sid\":\"x\"}");
    ck_assert_uint_eq(len, strlen(p));
    free(p);
    p = sio_packet_encode(SIO_CONNECT_ERROR, 0, "/random", 0, 0, "{\"message\":\"Invalid namespace\"}", 31, &len);
    ck_assert_str_eq(p, "4/random,{\"message\":\"Invalid namespace\"}");
    free(p);
    p = sio_packet_encode(SIO_BINARY_ACK, 2, "/", 1, 789, "[]", 2, &len);
    ck_assert_str_eq(p, "62-789[]");
    free(p);
    p = sio_packet_encode(SIO_DISCONNECT, 0, "/custom", 0, 0, NULL, 0, &len);
    ck_assert_str_eq(p, "1/custom,");
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sio_packet");
    TCase *tc = tcase_create("packet");
    tcase_add_test(tc, connect_packets);
    tcase_add_test(tc, event_packets);
    tcase_add_test(tc, nul_in_strings);
    tcase_add_test(tc, binary_packets);
    tcase_add_test(tc, ack_and_disconnect);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, placeholders);
    tcase_add_test(tc, encode);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
