/* core/plugin/api_json.c: the paths of api->msg_arg_* (keys, array
 * indexes, what names nothing), the text of msg_arg_json (the bytes
 * jansson's dump writes, whichever way it is made) and api->json_quote
 * (escaping, UTF-8, the snprintf-like buffer rule that never leaves a
 * truncated value). */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin.h"

static json_t *args;

static void setup(void)
{
    args = json_loads("[{\"content\":\"hi\",\"author\":{\"name\":\"ada\",\"roles\":[\"a\",\"b\"],\"dot.ted\":1},"
                      "\"list\":[{\"url\":\"u0\"},{\"url\":\"u1\"}],\"nothing\":null},\"second\"]",
                      0, NULL);
    ck_assert_ptr_nonnull(args);
}

static void teardown(void)
{
    json_decref(args);
}

static const char *text_at(unsigned index, const char *path)
{
    return json_string_value(api_json_path(args, index, path));
}

START_TEST(test_paths)
{
    ck_assert_str_eq(text_at(0, "content"), "hi");
    ck_assert_str_eq(text_at(0, "author.name"), "ada");
    ck_assert_str_eq(text_at(0, "author.roles.1"), "b");
    ck_assert_str_eq(text_at(0, "list.0.url"), "u0");
    ck_assert_str_eq(text_at(1, NULL), "second");
    ck_assert_str_eq(text_at(1, ""), "second");
    ck_assert(json_is_object(api_json_path(args, 0, NULL)));
    ck_assert(json_is_null(api_json_path(args, 0, "nothing")));
}
END_TEST

START_TEST(test_paths_that_name_nothing)
{
    static const char *const none[] = {"missing", "author.missing", "author.roles.2", "author.roles.-1",
                                       "author.roles.x", "author.", ".author", "author..name", "content.0",
                                       "author.dot.ted", "author.roles.01x", "list.9999999999.url"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        ck_assert_msg(api_json_path(args, 0, none[i]) == NULL, "'%s' named something", none[i]);
    ck_assert_ptr_null(api_json_path(args, 2, NULL));
    ck_assert_ptr_null(api_json_path(NULL, 0, "content"));
    char longkey[400];
    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    ck_assert_ptr_null(api_json_path(args, 0, longkey));
}
END_TEST

START_TEST(test_quote)
{
    char buf[64];
    ck_assert_int_eq(api_json_quote("say \"hi\"\\\n\t\x01/é", buf, sizeof(buf)), 27);
    ck_assert_str_eq(buf, "\"say \\\"hi\\\"\\\\\\n\\t\\u0001/é\"");
    ck_assert_int_eq(api_json_quote("", buf, sizeof(buf)), 2);
    ck_assert_str_eq(buf, "\"\"");
    /* Not UTF-8, or nothing: refused, and buf emptied. */
    ck_assert_int_eq(api_json_quote("bad \xff", buf, sizeof(buf)), SBR_ERR_INVALID);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(api_json_quote(NULL, buf, sizeof(buf)), SBR_ERR_INVALID);
    /* Too small: the length to allocate, and "" rather than a cut value. */
    ck_assert_int_eq(api_json_quote("abcdef", buf, 8), 8);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(api_json_quote("abcdef", buf, 9), 8);
    ck_assert_str_eq(buf, "\"abcdef\"");
    ck_assert_int_eq(api_json_quote("abcdef", NULL, 0), 8);
}
END_TEST

START_TEST(test_value_text)
{
    static const char *const values[] = {
        "\"hi\"", "\"a\\u0000b\"", "\"q\\\"s\\\\/\\n\\u001f\\u007f\u00e9\"", "0", "-12", "9223372036854775807",
        "true", "false", "null", "1.5", "-2e-300", "{\"a\":[1,{\"b\":\"c\"}]}", "[]",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        json_t *v = json_loads(values[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        ck_assert_msg(v != NULL, "%s", values[i]);
        char *dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        char buf[128];
        ck_assert_int_eq(api_json_text(v, buf, sizeof(buf)), (int)strlen(dumped));
        ck_assert_str_eq(buf, dumped);
        /* Too small: the length, and "" rather than a cut value. */
        ck_assert_int_eq(api_json_text(v, buf, strlen(dumped)), (int)strlen(dumped));
        ck_assert_str_eq(buf, "");
        free(dumped);
        json_decref(v);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_api_json");
    TCase *tc = tcase_create("api_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_paths_that_name_nothing);
    tcase_add_test(tc, test_quote);
    tcase_add_test(tc, test_value_text);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
