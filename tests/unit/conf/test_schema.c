/* Typed validation of a file against a declared key table. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

static const sbr_config_key keys[] = {
    {"name", SBR_CONF_STRING, "anon", 0, 0, 0, NULL},
    {"count", SBR_CONF_INT, "3", 1, 10, 0, NULL},
    {"big", SBR_CONF_INT, NULL, 0, 0, 0, NULL},
    {"flag", SBR_CONF_BOOL, "no", 0, 0, 0, NULL},
    {"ratio", SBR_CONF_DOUBLE, "0.5", 0, 1, 0, NULL},
    {"secret", SBR_CONF_STRING, NULL, 0, 0, SBR_CONF_SECRET | SBR_CONF_REQUIRED, NULL},
    {"pin", SBR_CONF_INT, "1234", 1000, 9999, SBR_CONF_SECRET, NULL},
    SBR_CONF_END,
};

static const char *const ignored[] = {"plugin", "path", "fallback", NULL};

static int build(const char *text, struct conf_values *v, char *err)
{
    struct conf_file f;
    ck_assert_msg(conf_text_parse("conf.d/60-x.conf", text, strlen(text), &f, err, CONF_ERR_MAX) == 0, "%s", err);
    int rc = conf_values_build(keys, &f, ignored, v, err, CONF_ERR_MAX);
    conf_file_clear(&f);
    return rc;
}

START_TEST(test_values_and_defaults)
{
    struct conf_values v;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(build("plugin = x\npath = /opt/x.so\ncount = 7\nflag = Yes\nratio = 1\nsecret = s3cr3t\nbig = -9000000000\n",
                        &v, err) == 0,
                  "%s", err);
    ck_assert_str_eq(conf_values_string(&v, "name"), "anon");
    ck_assert_int_eq(conf_values_int(&v, "count"), 7);
    ck_assert_int_eq(conf_values_int(&v, "big"), -9000000000LL);
    ck_assert_int_eq(conf_values_bool(&v, "flag"), 1);
    ck_assert(conf_values_double(&v, "ratio") == 1.0);
    ck_assert_str_eq(conf_values_string(&v, "secret"), "s3cr3t");
    ck_assert_int_eq(conf_values_int(&v, "pin"), 1234);
    ck_assert_int_eq(v.line[conf_values_index(&v, "count")], 3);
    ck_assert_int_eq(v.line[conf_values_index(&v, "name")], 0);
    ck_assert_ptr_null(conf_values_string(&v, "undeclared"));
    conf_values_clear(&v);
}
END_TEST

START_TEST(test_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"plugin = x\nsecret = s\ncolour = red\n", "conf.d/60-x.conf:3: unknown key 'colour' for plugin 'x'"},
        {"plugin = x\nsecret = s\ncount = many\n", "conf.d/60-x.conf:3: key 'count' expects an integer, got 'many'"},
        {"plugin = x\nsecret = s\ncount = 11\n", "conf.d/60-x.conf:3: key 'count': 11 is out of bounds 1..10"},
        {"plugin = x\nsecret = s\ncount = 0\n", "conf.d/60-x.conf:3: key 'count': 0 is out of bounds 1..10"},
        {"plugin = x\nsecret = s\ncount = 5x\n", "conf.d/60-x.conf:3: key 'count' expects an integer, got '5x'"},
        {"plugin = x\nsecret = s\nbig = 99999999999999999999\n",
         "conf.d/60-x.conf:3: key 'big' expects an integer, got '99999999999999999999'"},
        {"plugin = x\nsecret = s\nflag = maybe\n",
         "conf.d/60-x.conf:3: key 'flag' expects a boolean (true/false, yes/no, on/off, 1/0), got 'maybe'"},
        {"plugin = x\nsecret = s\nratio = 1.5\n", "conf.d/60-x.conf:3: key 'ratio': 1.5 is out of bounds 0..1"},
        {"plugin = x\nsecret = s\nratio = nan\n", "conf.d/60-x.conf:3: key 'ratio' expects a number, got 'nan'"},
        {"plugin = x\n\ncount = 2\n", "conf.d/60-x.conf:1: key 'secret' is required and is empty (not set in the file)"},
        {"plugin = x\nsecret =\n", "conf.d/60-x.conf:2: key 'secret' is required and is empty"},
        {"plugin = x\nsecret = a\ncount = 2\ncount = 3\n", "conf.d/60-x.conf:4: key 'count' given twice (first on line 3)"},
        /* Secret values are never quoted back. */
        {"plugin = x\nsecret = s\npin = 12\n", "conf.d/60-x.conf:3: key 'pin': value out of bounds 1000..9999"},
        {"plugin = x\nsecret = s\npin = hunter2\n", "conf.d/60-x.conf:3: key 'pin' expects an integer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf_values v;
        char err[CONF_ERR_MAX] = "";
        ck_assert_int_eq(build(cases[i].text, &v, err), -1);
        ck_assert_msg(strcmp(err, cases[i].want) == 0, "case %zu: got '%s' want '%s'", i, err, cases[i].want);
        ck_assert_ptr_null(strstr(err, "hunter2"));
    }
}
END_TEST

START_TEST(test_no_file_and_no_keys)
{
    struct conf_values v;
    char err[CONF_ERR_MAX] = "";
    static const sbr_config_key loose[] = {{"a", SBR_CONF_INT, "5", 0, 0, 0, NULL}, SBR_CONF_END};
    ck_assert_int_eq(conf_values_build(loose, NULL, NULL, &v, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_values_int(&v, "a"), 5);
    conf_values_clear(&v);
    ck_assert_int_eq(conf_values_build(NULL, NULL, NULL, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v.n, 0);
    conf_values_clear(&v);
    struct conf_file f;
    ck_assert_int_eq(conf_text_parse("f.conf", "plugin = y\nk = 1\n", 17, &f, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_values_build(NULL, &f, ignored, &v, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "f.conf:2: unknown key 'k' for plugin 'y'");
    conf_file_clear(&f);
}
END_TEST

START_TEST(test_keep_fixed)
{
    static const sbr_config_key two[] = {
        {"live", SBR_CONF_STRING, "a", 0, 0, SBR_CONF_RELOADABLE, NULL},
        {"fixed", SBR_CONF_STRING, "a", 0, 0, 0, NULL},
        SBR_CONF_END,
    };
    struct conf_values old, fresh;
    struct conf_file f;
    char err[CONF_ERR_MAX];
    const char *text = "plugin = z\nlive = b\nfixed = b\n";
    ck_assert_int_eq(conf_values_build(two, NULL, NULL, &old, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_text_parse("z.conf", text, strlen(text), &f, err, sizeof(err)), 0);
    ck_assert_int_eq(conf_values_build(two, &f, NULL, &fresh, err, sizeof(err)), 0);
    conf_values_keep_fixed("z", "z.conf", &old, &fresh);
    ck_assert_str_eq(conf_values_string(&fresh, "live"), "b");
    ck_assert_str_eq(conf_values_string(&fresh, "fixed"), "a");
    conf_values_clear(&old);
    conf_values_clear(&fresh);
    conf_file_clear(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_schema");
    TCase *tc = tcase_create("schema");
    tcase_add_test(tc, test_values_and_defaults);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_no_file_and_no_keys);
    tcase_add_test(tc, test_keep_fixed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
