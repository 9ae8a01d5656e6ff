/* core/ws/ws_utf8.c: incremental validation, split anywhere. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "ws/ws_utf8.h"

static int valid_whole(const char *s, size_t n)
{
    struct ws_utf8 u;
    ws_utf8_reset(&u);
    return ws_utf8_feed(&u, (const uint8_t *)s, n) == 0 && ws_utf8_complete(&u);
}

/* Every split point gives the same answer as the whole. */
static int valid_split(const char *s, size_t n)
{
    int whole = valid_whole(s, n);
    for (size_t cut = 0; cut <= n; cut++) {
        struct ws_utf8 u;
        ws_utf8_reset(&u);
        int ok = ws_utf8_feed(&u, (const uint8_t *)s, cut) == 0 &&
                 ws_utf8_feed(&u, (const uint8_t *)s + cut, n - cut) == 0 && ws_utf8_complete(&u);
        ck_assert_int_eq(ok, whole);
    }
    return whole;
}

#define V(lit) valid_split(lit, sizeof(lit) - 1)

START_TEST(valid_text)
{
    ck_assert(V(""));
    ck_assert(V("hello"));
    ck_assert(V("caf\xc3\xa9"));
    ck_assert(V("\xe2\x82\xac"));         /* U+20AC */
    ck_assert(V("\xf0\x9f\x98\x80"));     /* U+1F600 */
    ck_assert(V("\xef\xbf\xbf"));         /* U+FFFF */
    ck_assert(V("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
    ck_assert(V("\xed\x9f\xbf"));         /* U+D7FF */
}
END_TEST

START_TEST(invalid_text)
{
    ck_assert(!V("\x80"));                /* lone continuation */
    ck_assert(!V("\xc0\xaf"));            /* overlong */
    ck_assert(!V("\xc1\xbf"));
    ck_assert(!V("\xe0\x80\xaf"));        /* overlong 3-byte */
    ck_assert(!V("\xf0\x80\x80\xaf"));    /* overlong 4-byte */
    ck_assert(!V("\xed\xa0\x80"));        /* surrogate U+D800 */
    ck_assert(!V("\xed\xbf\xbf"));        /* surrogate U+DFFF */
    ck_assert(!V("\xf4\x90\x80\x80"));    /* above U+10FFFF */
    ck_assert(!V("\xf5\x80\x80\x80"));
    ck_assert(!V("\xfe"));
    ck_assert(!V("\xff"));
    ck_assert(!V("\xc3"));                /* truncated */
    ck_assert(!V("\xe2\x82"));
    ck_assert(!V("a\xc3(b"));
    ck_assert(!V("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_utf8");
    TCase *tc = tcase_create("utf8");
    tcase_add_test(tc, valid_text);
    tcase_add_test(tc, invalid_text);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
