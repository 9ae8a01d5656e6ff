/* core/util/listen_addr.c: the one parser of listen addresses. */
#include <check.h>
#include <stdlib.h>

#include "util/listen_addr.h"

START_TEST(test_forms)
{
    char host[64];
    int port;
    ck_assert_int_eq(listen_addr_parse("0.0.0.0:80", host, sizeof(host), &port, 0), 0);
    ck_assert_str_eq(host, "0.0.0.0");
    ck_assert_int_eq(port, 80);
    ck_assert_int_eq(listen_addr_parse("*:81", host, sizeof(host), &port, 0), 0);
    ck_assert_str_eq(host, "");
    ck_assert_int_eq(listen_addr_parse("[::]:82", host, sizeof(host), &port, 0), 0);
    ck_assert_str_eq(host, "::");
    ck_assert_int_eq(listen_addr_parse("localhost:65535", host, sizeof(host), &port, 0), 0);
    ck_assert_str_eq(host, "localhost");
    ck_assert_int_eq(port, 65535);
}
END_TEST

START_TEST(test_any_port)
{
    char host[64];
    int port = -1;
    ck_assert_int_eq(listen_addr_parse("h:0", host, sizeof(host), &port, 0), -1);
    ck_assert_int_eq(listen_addr_parse("127.0.0.1:0", host, sizeof(host), &port, 1), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 0);
    ck_assert_int_eq(listen_addr_parse("[::1]:0", host, sizeof(host), &port, 1), 0);
    ck_assert_str_eq(host, "::1");
}
END_TEST

START_TEST(test_refused)
{
    char host[8];
    int port;
    static const char *const bad[] = {"h:", "h", "[::1:5", "[::1]5", "h:65536", "h:-1", "h:+1", "h: 1", "h:1x",
                                      "h:99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(listen_addr_parse(bad[i], host, sizeof(host), &port, 1) == -1, "'%s' accepted", bad[i]);
    /* The host must fit. */
    ck_assert_int_eq(listen_addr_parse("longhostname:1", host, sizeof(host), &port, 0), -1);
    ck_assert_int_eq(listen_addr_parse("1234567:1", host, sizeof(host), &port, 0), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util_listen_addr");
    TCase *tc = tcase_create("listen_addr");
    tcase_add_test(tc, test_forms);
    tcase_add_test(tc, test_any_port);
    tcase_add_test(tc, test_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
