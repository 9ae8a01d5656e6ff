/* core/log.c and core/log_json.c: text and JSON lines, fields, escaping of
 * quotes, control characters and bytes that are not UTF-8, and long
 * messages cut without breaking the line. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Run fn with stderr captured; returns what it wrote (malloc'd). */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    long n = ftell(tmp);
    char *out = calloc(1, (size_t)n + 1);
    rewind(tmp);
    ck_assert_int_eq(fread(out, 1, (size_t)n, tmp), (size_t)n);
    fclose(tmp);
    return out;
}

static const char *const hostile = "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f bad \xff\xfe end";

static void log_hostile(void)
{
    const struct log_field f[] = {{"user", "u\"1\n"}, {"skipped", NULL}, {"transport", "websocket"}};
    log_fields(LOG_INFO_, "sio", f, 3, "%s", hostile);
}

START_TEST(test_json_line)
{
    log_set_level(LOG_DEBUG_);
    log_set_format(LOG_FORMAT_JSON);
    char *out = capture(log_hostile);
    log_set_format(LOG_FORMAT_TEXT);
    /* One line, ending in one newline. */
    size_t len = strlen(out);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(out[len - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    ck_assert_msg(o != NULL, "not JSON: %s (%s)", out, e.text);
    ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "info");
    ck_assert_str_eq(json_string_value(json_object_get(o, "component")), "sio");
    ck_assert_str_eq(json_string_value(json_object_get(o, "msg")),
                     "quote \" backslash \\ newline \n tab \t bell \x07 del \x7f bad \xef\xbf\xbd\xef\xbf\xbd end");
    ck_assert_str_eq(json_string_value(json_object_get(o, "user")), "u\"1\n");
    ck_assert_str_eq(json_string_value(json_object_get(o, "transport")), "websocket");
    ck_assert_ptr_null(json_object_get(o, "skipped"));
    const char *ts = json_string_value(json_object_get(o, "ts"));
    ck_assert_ptr_nonnull(ts);
    ck_assert_uint_eq(strlen(ts), 24); /* 2026-01-02T03:04:05.678Z */
    ck_assert_int_eq(ts[23], 'Z');
    json_decref(o);
    free(out);
}
END_TEST

START_TEST(test_text_line)
{
    log_set_level(LOG_DEBUG_);
    log_set_format(LOG_FORMAT_TEXT);
    char *out = capture(log_hostile);
    size_t len = strlen(out);
    ck_assert_ptr_eq(strchr(out, '\n'), out + len - 1);
    /* Control characters become spaces; fields follow as key=value, quoted when needed. */
    ck_assert_msg(strstr(out, " INFO sio: quote \" backslash \\ newline   tab   bell   del   bad"), "%s", out);
    ck_assert_msg(strstr(out, " user=\"u\\\"1 \" transport=websocket\n"), "%s", out);
    ck_assert_ptr_null(strstr(out, "skipped"));
    free(out);
}
END_TEST

static void log_long(void)
{
    char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[100] = '"';
    const struct log_field f[] = {{"field", big}};
    log_fields(LOG_WARN_, "core", f, 1, "%s", big);
}

START_TEST(test_long_json_stays_one_valid_line)
{
    log_set_format(LOG_FORMAT_JSON);
    char *out = capture(log_long);
    log_set_format(LOG_FORMAT_TEXT);
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    ck_assert_msg(o != NULL, "not JSON (%s): %.200s", e.text, out);
    ck_assert_uint_gt(strlen(json_string_value(json_object_get(o, "msg"))), 1000);
    json_decref(o);
    free(out);
}
END_TEST

static void log_levels(void)
{
    log_msg(LOG_DEBUG_, "core", "hidden");
    log_msg(LOG_INFO_, "core", "shown");
}

START_TEST(test_level_filter)
{
    log_set_level(LOG_INFO_);
    ck_assert_int_eq(log_enabled(LOG_DEBUG_), 0);
    ck_assert_int_eq(log_enabled(LOG_WARN_), 1);
    char *out = capture(log_levels);
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_ptr_nonnull(strstr(out, "INFO core: shown\n"));
    free(out);
}
END_TEST

START_TEST(test_json_string_cut)
{
    char buf[16];
    size_t len = 0;
    /* A piece that does not fit is left out whole: no half escape, no half character. */
    ck_assert_int_eq(log_json_string(buf, sizeof(buf), &len, "abcdefghij\n\xc3\xa9"), -1);
    ck_assert_str_eq(buf, "\"abcdefghij\\n\"");
    len = 0;
    ck_assert_int_eq(log_json_string(buf, sizeof(buf), &len, "ab\xc3\xa9"), 0);
    ck_assert_str_eq(buf, "\"ab\xc3\xa9\"");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, test_json_line);
    tcase_add_test(tc, test_text_line);
    tcase_add_test(tc, test_long_json_stays_one_valid_line);
    tcase_add_test(tc, test_level_filter);
    tcase_add_test(tc, test_json_string_cut);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
