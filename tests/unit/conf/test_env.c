/* ${VAR} / ${VAR:-default} expansion and .env loading. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

static char *expand_ok(const char *in)
{
    char err[CONF_ERR_MAX] = "";
    char *out = NULL;
    ck_assert_msg(env_expand(in, &out, err, sizeof(err)) == 0, "expand '%s': %s", in, err);
    return out;
}

static void expect(const char *in, const char *want)
{
    char *out = expand_ok(in);
    ck_assert_str_eq(out, want);
    free(out);
}

static void expect_error(const char *in, const char *fragment)
{
    char err[CONF_ERR_MAX] = "";
    char *out = NULL;
    ck_assert_int_eq(env_expand(in, &out, err, sizeof(err)), -1);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, fragment), "error '%s' lacks '%s'", err, fragment);
}

START_TEST(test_plain_and_set)
{
    setenv("SBRT_A", "alpha", 1);
    unsetenv("SBRT_UNSET");
    expect("no variables", "no variables");
    expect("${SBRT_A}", "alpha");
    expect("x-${SBRT_A}-y", "x-alpha-y");
    expect("${SBRT_UNSET}", "");
    expect("$SBRT_A and $ alone", "$SBRT_A and $ alone");
    expect("", "");
}
END_TEST

START_TEST(test_defaults)
{
    setenv("SBRT_A", "alpha", 1);
    setenv("SBRT_EMPTY", "", 1);
    unsetenv("SBRT_UNSET");
    expect("${SBRT_UNSET:-fallback}", "fallback");
    expect("${SBRT_EMPTY:-fallback}", "fallback");
    expect("${SBRT_A:-fallback}", "alpha");
    expect("${SBRT_UNSET:-}", "");
    expect("${SBRT_UNSET:-a b:c}", "a b:c");
    expect("${SBRT_UNSET:-127.0.0.1:8080}", "127.0.0.1:8080");
}
END_TEST

START_TEST(test_nested)
{
    setenv("SBRT_B", "beta", 1);
    unsetenv("SBRT_UNSET");
    unsetenv("SBRT_UNSET2");
    expect("${SBRT_UNSET:-${SBRT_B:-}}", "beta");
    expect("${SBRT_UNSET:-${SBRT_UNSET2:-}}", "");
    expect("${SBRT_UNSET:-${SBRT_UNSET2:-deep}}", "deep");
    expect("${SBRT_B:-${SBRT_UNSET2:-deep}}", "beta");
    expect("<${SBRT_UNSET:-pre-${SBRT_B}-post}>", "<pre-beta-post>");
}
END_TEST

START_TEST(test_errors)
{
    expect_error("${", "bad variable name");
    expect_error("${}", "bad variable name");
    expect_error("${SBRT_A", "unexpected character");
    expect_error("${SBRT_A:-x", "unterminated");
    expect_error("${SBRT_A-x}", "only ${VAR} and ${VAR:-default}");
    expect_error("${A:-${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-x}}}}}}}}}}", "nested too deeply");
}
END_TEST

static char *write_temp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/sbr-env-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

START_TEST(test_dotenv_precedence)
{
    setenv("SBRT_REAL", "from-environment", 1);
    unsetenv("SBRT_D1");
    unsetenv("SBRT_D2");
    unsetenv("SBRT_D3");
    unsetenv("SBRT_D4");
    unsetenv("SBRT_D5");
    char *path = write_temp("# a comment\n"
                            "\n"
                            "SBRT_REAL=from-dotenv\n"
                            "SBRT_D1=plain # trailing comment\n"
                            "export SBRT_D2=exported\n"
                            "SBRT_D3=\"double # not a comment\"\n"
                            "SBRT_D4='single quoted'\n"
                            "  SBRT_D5 =  spaced  \n");
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(env_load_dotenv(path, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(getenv("SBRT_REAL"), "from-environment");
    ck_assert_str_eq(getenv("SBRT_D1"), "plain");
    ck_assert_str_eq(getenv("SBRT_D2"), "exported");
    ck_assert_str_eq(getenv("SBRT_D3"), "double # not a comment");
    ck_assert_str_eq(getenv("SBRT_D4"), "single quoted");
    ck_assert_str_eq(getenv("SBRT_D5"), "spaced");
    unlink(path);
}
END_TEST

START_TEST(test_dotenv_errors)
{
    static const struct {
        const char *text, *fragment;
    } cases[] = {
        {"OK=1\nnot a pair\n", ":2: expected KEY=VALUE"},
        {"1BAD=x\n", ":1: bad variable name"},
        {"BAD-NAME=x\n", ":1: bad variable name"},
        {"Q=\"open\n", ":1: unterminated quote"},
        {"Q=\"a\" b\n", ":1: text after the closing quote"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_temp(cases[i].text);
        char err[CONF_ERR_MAX] = "";
        ck_assert_int_eq(env_load_dotenv(path, err, sizeof(err)), -1);
        ck_assert_msg(strstr(err, cases[i].fragment) && strncmp(err, path, strlen(path)) == 0,
                      "case %zu: '%s'", i, err);
        unlink(path);
    }
}
END_TEST

START_TEST(test_dotenv_missing)
{
    char err[CONF_ERR_MAX] = "";
    ck_assert_int_eq(env_load_dotenv("/nonexistent/.env", err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_env");
    TCase *tc = tcase_create("env");
    tcase_add_test(tc, test_plain_and_set);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_nested);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_dotenv_precedence);
    tcase_add_test(tc, test_dotenv_errors);
    tcase_add_test(tc, test_dotenv_missing);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
