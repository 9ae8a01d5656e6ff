/* conf.d files and directories: good files, each parse error, ordering. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"

static int parse(const char *text, struct conf_file *out, char *err)
{
    return conf_text_parse("conf.d/50-test.conf", text, strlen(text), out, err, CONF_ERR_MAX);
}

START_TEST(test_good_file)
{
    setenv("SBRT_PORT", "9000", 1);
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(parse("# header comment\n"
                        "plugin = typing\n"
                        "\n"
                        "ttl_seconds = 10\n"
                        "  listen=127.0.0.1:${SBRT_PORT}  \n"
                        "quoted = \"  spaced  \"\n"
                        "empty =\n"
                        "url = ${SBRT_NOPE:-redis://h:1/0}\r\n",
                        &f, err) == 0,
                  "%s", err);
    ck_assert_str_eq(f.plugin, "typing");
    ck_assert_int_eq(f.plugin_line, 2);
    ck_assert_uint_eq(f.n_entries, 5);
    ck_assert_str_eq(f.entries[0].key, "ttl_seconds");
    ck_assert_str_eq(f.entries[0].value, "10");
    ck_assert_int_eq(f.entries[0].line, 4);
    ck_assert_str_eq(conf_file_find(&f, "listen")->value, "127.0.0.1:9000");
    ck_assert_str_eq(conf_file_find(&f, "quoted")->value, "  spaced  ");
    ck_assert_str_eq(conf_file_find(&f, "empty")->value, "");
    ck_assert_str_eq(conf_file_find(&f, "url")->value, "redis://h:1/0");
    ck_assert_ptr_null(conf_file_find(&f, "plugin"));
    conf_file_clear(&f);
}
END_TEST

START_TEST(test_errors)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"", "conf.d/50-test.conf:1: no 'plugin = NAME' line"},
        {"# only a comment\n", "conf.d/50-test.conf:1: no 'plugin = NAME' line"},
        {"ttl = 1\nplugin = typing\n", "conf.d/50-test.conf:1: the first key must be 'plugin = NAME'"},
        {"plugin = typing\nplugin = presence\n", "conf.d/50-test.conf:2: 'plugin' given twice (one file per plugin)"},
        {"plugin = typing\njust words\n", "conf.d/50-test.conf:2: expected 'key = value'"},
        {"plugin = typing\n= value\n", "conf.d/50-test.conf:2: expected 'key = value'"},
        {"plugin = Bad Name\n", "conf.d/50-test.conf:1: bad plugin name (lowercase letters, digits, '-' and '_')"},
        {"plugin =\n", "conf.d/50-test.conf:1: bad plugin name (lowercase letters, digits, '-' and '_')"},
        {"plugin = typing\n\nx = ${OOPS\n", "conf.d/50-test.conf:3: unexpected character in ${OOPS...}"},
        {"plugin = typing\nx = ${A:-open\n", "conf.d/50-test.conf:2: unterminated ${A:-...}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf_file f;
        char err[CONF_ERR_MAX] = "";
        ck_assert_int_eq(parse(cases[i].text, &f, err), -1);
        ck_assert_msg(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "case %zu: got '%s' want '%s'", i,
                      err, cases[i].want);
    }
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    ck_assert_int_eq(conf_text_parse("x.conf", "plugin = a\0b", 12, &f, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "x.conf: NUL byte in file");
}
END_TEST

static char tmpdir[64];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void cleanup_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_dir_order_and_filter)
{
    strcpy(tmpdir, "/tmp/sbr-confd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    put("20-b.conf", "plugin = bee\n");
    put("10-a.conf", "plugin = ant\n");
    put("30-c.conf.disabled", "plugin = cat\n");
    put("README", "not a conf file\n");
    put(".hidden.conf", "plugin = ghost\n");
    put("15-core.conf", "plugin = core\nlisten = 127.0.0.1:1\n");
    struct conf_set set;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(conf_dir_read(tmpdir, &set, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(set.n_files, 3);
    ck_assert_str_eq(set.files[0].plugin, "ant");
    ck_assert_str_eq(set.files[1].plugin, "core");
    ck_assert_str_eq(set.files[2].plugin, "bee");
    ck_assert_ptr_nonnull(strstr(set.files[2].path, "/20-b.conf"));
    ck_assert_ptr_null(conf_set_find(&set, "cat"));
    conf_set_clear(&set);
    cleanup_dir();
}
END_TEST

START_TEST(test_dir_duplicate)
{
    strcpy(tmpdir, "/tmp/sbr-confd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    put("10-a.conf", "plugin = ant\n");
    put("20-b.conf", "# again\nplugin = ant\n");
    struct conf_set set;
    char err[CONF_ERR_MAX] = "", want[CONF_ERR_MAX];
    ck_assert_int_eq(conf_dir_read(tmpdir, &set, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s/20-b.conf:2: plugin 'ant' is already configured by %s/10-a.conf", tmpdir, tmpdir);
    ck_assert_str_eq(err, want);
    cleanup_dir();
    ck_assert_int_eq(conf_dir_read("/nonexistent-dir", &set, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "/nonexistent-dir: No such file or directory");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_parser");
    TCase *tc = tcase_create("parser");
    tcase_add_test(tc, test_good_file);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_dir_order_and_filter);
    tcase_add_test(tc, test_dir_duplicate);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
