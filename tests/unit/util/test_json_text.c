/* core/util/json_text.c: the validating scanner and the quoter, on fixed
 * cases and against jansson (the library the core parses with) on many
 * generated texts: both must accept and refuse the same texts, and quote a
 * string to the same bytes. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_text.h"

static int valid(const char *text)
{
    return json_text_valid(text, strlen(text));
}

START_TEST(accepts_values)
{
    static const char *const good[] = {
        "0", "-0", "1.5", "-12.25e+3", "1E9", "true", "false", "null", "\"\"", "\"a\\u0000b\"",
        "\"\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "[]", "{}",
        " [ 1 , [ ] , { } , \"x\" ] ", "{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":-1e-3}", "\t\r\n{}\n",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(valid(good[i]), "refused: %s", good[i]);
}
END_TEST

START_TEST(refuses_non_values)
{
    static const char *const bad[] = {
        "", " ", "01", "-", "1.", ".5", "1e", "+1", "tru", "nul", "True", "\"", "\"\\x\"", "\"\\u12\"",
        "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"a\nb\"", "\"\xc3\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"", "\"\xff\"", "[", "]", "[1,]", "[,1]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}",
        "{\"a\":1,}", "{\"a\":1", "1 2", "[]]", "{}}", "[}", "{]", "nan", "[1]x",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!valid(bad[i]), "accepted: %s", bad[i]);
    ck_assert(!json_text_valid(NULL, 0));
    ck_assert(!json_text_valid("1\0", 2)); /* a NUL after the value */
}
END_TEST

/* Numbers jansson cannot hold are refused as it refuses them. */
START_TEST(numbers_within_range)
{
    static const struct {
        const char *text;
        int ok;
    } cases[] = {
        {"9223372036854775807", 1}, {"9223372036854775808", 0}, {"-9223372036854775808", 1},
        {"-9223372036854775809", 0}, {"12345678901234567890", 0}, {"1e308", 1}, {"1e309", 0},
        {"-1.7e308", 1}, {"-1.8e308", 0}, {"1e-400", 1}, {"123456789012345678901234567890.5", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = json_loads(cases[i].text, JSON_DECODE_ANY, NULL);
        ck_assert_msg((v != NULL) == cases[i].ok, "jansson disagrees on %s", cases[i].text);
        json_decref(v);
        ck_assert_msg(valid(cases[i].text) == cases[i].ok, "%s", cases[i].text);
    }
}
END_TEST

START_TEST(depth_is_bounded)
{
    size_t n = JSON_TEXT_DEPTH_MAX + 1;
    char *deep = malloc(2 * n + 1);
    ck_assert_ptr_nonnull(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    ck_assert(!json_text_valid(deep, 2 * n));
    ck_assert(json_text_valid(deep + 1, 2 * n - 2)); /* exactly the bound */
    free(deep);
}
END_TEST

START_TEST(value_end)
{
    const char *text = "[\"send_message\" , {\"a\":[1,2]}, 3]";
    ck_assert_uint_eq(json_text_value_end(text + 1, strlen(text) - 1), 14);
    ck_assert_uint_eq(json_text_value_end(" {\"a\":[1,2]}, 3]", 16), 12);
    ck_assert_uint_eq(json_text_value_end("{\"a\":", 5), 0);
    ck_assert_uint_eq(json_text_value_end("12,", 3), 2);
}
END_TEST

/* jansson's dump of a string, for comparison. */
static char *jansson_quote(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    if (!v)
        return NULL;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    return text;
}

START_TEST(quotes_as_jansson_does)
{
    static const char *const strings[] = {"", "plain", "a\"b\\c/d", "\b\f\n\r\t", "\x01\x1f\x7f", "\xc3\xa9\xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        size_t n = strlen(strings[i]);
        char *expected = jansson_quote(strings[i], n);
        ck_assert_ptr_nonnull(expected);
        char out[64];
        ck_assert_uint_eq(json_text_quoted_len(strings[i], n), strlen(expected));
        ck_assert_uint_eq(json_text_quote(strings[i], n, out), strlen(expected));
        ck_assert_mem_eq(out, expected, strlen(expected));
        free(expected);
    }
    ck_assert_uint_eq(json_text_quoted_len("\xc3", 1), 0);
    ck_assert_uint_eq(json_text_quoted_len("\xed\xa0\x80", 3), 0);
}
END_TEST

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* A text made of JSON's pieces and a few wrong ones, mostly near-valid. */
static size_t generate(char *out, size_t cap)
{
    static const char *const pieces[] = {
        "[", "]", "{", "}", ",", ":", " ", "\"k\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\n\"",
        "1", "-2.5e3", "0", "01", "true", "null", "fals", "\"\xc3\xa9\"", "\"\xc3\"", "\"\x01\"", "\"", "\\",
        "\xe2\x82\xac", "-", ".", "e",
    };
    size_t n = 0, count = 1 + rng() % 12;
    for (size_t i = 0; i < count; i++) {
        const char *p = pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))];
        size_t len = strlen(p);
        if (n + len >= cap)
            break;
        memcpy(out + n, p, len);
        n += len;
    }
    out[n] = '\0';
    return n;
}

START_TEST(agrees_with_jansson)
{
    char text[256];
    size_t accepted = 0;
    for (int i = 0; i < 50000; i++) {
        size_t n = generate(text, sizeof(text));
        json_error_t err;
        json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        int theirs = v != NULL;
        json_decref(v);
        int ours = json_text_valid(text, n);
        ck_assert_msg(ours == theirs, "json_text_valid says %d, jansson %d (%s) for: %s", ours, theirs,
                      err.text, text);
        accepted += (size_t)ours;
    }
    ck_assert_uint_gt(accepted, 250); /* the generator reaches valid texts too */
}
END_TEST

static Suite *json_text_suite(void)
{
    Suite *s = suite_create("json_text");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accepts_values);
    tcase_add_test(tc, refuses_non_values);
    tcase_add_test(tc, numbers_within_range);
    tcase_add_test(tc, depth_is_bounded);
    tcase_add_test(tc, value_end);
    tcase_add_test(tc, quotes_as_jansson_does);
    tcase_add_test(tc, agrees_with_jansson);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(json_text_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
