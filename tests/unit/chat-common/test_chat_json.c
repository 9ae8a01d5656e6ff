/* plugins/chat-common: the JSON text the chat plugins write on every
 * message (chat_json.c), byte for byte what jansson's compact dump of the
 * same object writes, and chat_format's "%s" fast path against printf. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chat_event.h"
#include "chat_json.h"

/* The host's json_quote, as the core answers it (jansson's escaping). */
static int quote(const char *text, char *buf, size_t len)
{
    json_t *s = text ? json_string(text) : NULL;
    char *q = s ? json_dumps(s, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    if (!q)
        return SBR_ERR_INVALID;
    int n = (int)strlen(q);
    if (buf && len > (size_t)n)
        memcpy(buf, q, (size_t)n + 1);
    else if (buf && len)
        buf[0] = '\0';
    free(q);
    return n;
}

static sbr_api api;

static void expect_same(char *ours, json_t *theirs)
{
    char *dumped = json_dumps(theirs, JSON_COMPACT | JSON_REAL_PRECISION(10));
    ck_assert_ptr_nonnull(ours);
    ck_assert_str_eq(ours, dumped);
    free(ours);
    free(dumped);
    json_decref(theirs);
}

START_TEST(objects_as_jansson_writes_them)
{
    api.json_quote = quote;
    struct chat_json j;
    chat_json_open(&j, &api);
    chat_json_bool(&j, "ok", 1);
    chat_json_string(&j, "id", "say \"hi\"\\\n\x01/\xc3\xa9");
    chat_json_string(&j, "none", NULL);
    chat_json_int(&j, "zero", 0);
    chat_json_int(&j, "min", INT64_MIN);
    chat_json_int(&j, "ts", 1765000000123);
    chat_json_raw(&j, "content", "\"x\\u0000y\"");
    chat_json_real(&j, "retry_after", 4.2);
    chat_json_real(&j, "whole", 5.0);
    chat_json_bool(&j, "no", 0);
    expect_same(chat_json_close(&j),
                json_pack("{s:b, s:s, s:n, s:I, s:I, s:I, s:s%, s:f, s:f, s:b}", "ok", 1, "id",
                          "say \"hi\"\\\n\x01/\xc3\xa9", "none", "zero", (json_int_t)0, "min", (json_int_t)INT64_MIN,
                          "ts", (json_int_t)1765000000123, "content", "x\0y", (size_t)3, "retry_after", 4.2,
                          "whole", 5.0, "no", 0));
    chat_json_open(&j, &api);
    expect_same(chat_json_close(&j), json_object());
}
END_TEST

START_TEST(a_string_that_is_not_utf8_fails_the_object)
{
    api.json_quote = quote;
    struct chat_json j;
    chat_json_open(&j, &api);
    chat_json_string(&j, "a", "fine");
    chat_json_string(&j, "b", "bad \xff");
    chat_json_int(&j, "c", 1);
    ck_assert_ptr_null(chat_json_close(&j));
}
END_TEST

START_TEST(a_long_object_grows_its_buffer)
{
    api.json_quote = quote;
    char big[5000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct chat_json j;
    chat_json_open(&j, &api);
    for (int i = 0; i < 3; i++)
        chat_json_string(&j, i == 0 ? "a" : i == 1 ? "b" : "c", big);
    expect_same(chat_json_close(&j), json_pack("{s:s, s:s, s:s}", "a", big, "b", big, "c", big));
}
END_TEST

START_TEST(format_concatenates_strings_and_falls_back_to_printf)
{
    char *s = chat_format("channel:%s", "42");
    ck_assert_str_eq(s, "channel:42");
    free(s);
    s = chat_format("slowmode:%s:%s", "c", "u");
    ck_assert_str_eq(s, "slowmode:c:u");
    free(s);
    s = chat_format("%s", "");
    ck_assert_str_eq(s, "");
    free(s);
    s = chat_format("plain");
    ck_assert_str_eq(s, "plain");
    free(s);
    s = chat_format("%s %d%%", "n", 7); /* another conversion: printf */
    ck_assert_str_eq(s, "n 7%");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("chat_common");
    TCase *tc = tcase_create("chat_json");
    tcase_add_test(tc, objects_as_jansson_writes_them);
    tcase_add_test(tc, a_string_that_is_not_utf8_fails_the_object);
    tcase_add_test(tc, a_long_object_grows_its_buffer);
    tcase_add_test(tc, format_concatenates_strings_and_falls_back_to_printf);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
