/* Environment files in systemd's EnvironmentFile= syntax (--env-file):
 * quoting, escapes, comments, continuation lines, and the lines systemd
 * would skip, refused with file:line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"

#define MAX_VARS 32

struct seen {
    size_t n;
    char *key[MAX_VARS], *value[MAX_VARS];
    int line[MAX_VARS];
};

static int collect(const char *key, const char *value, int line, void *userdata)
{
    struct seen *s = userdata;
    ck_assert_uint_lt(s->n, MAX_VARS);
    s->key[s->n] = strdup(key);
    s->value[s->n] = strdup(value);
    s->line[s->n++] = line;
    return 0;
}

static void seen_clear(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->key[i]);
        free(s->value[i]);
    }
    s->n = 0;
}

/* Parse text, which must succeed, into s. */
static void parse_ok(const char *text, struct seen *s)
{
    char err[CONF_ERR_MAX] = "";
    memset(s, 0, sizeof(*s));
    ck_assert_msg(envfile_parse("env", text, strlen(text), collect, s, err, sizeof(err)) == 0, "'%s': %s", text, err);
}

/* The one value text assigns to key. */
static void expect(const char *text, const char *key, const char *want)
{
    struct seen s;
    parse_ok(text, &s);
    ck_assert_msg(s.n == 1, "'%s': %zu assignments", text, s.n);
    ck_assert_str_eq(s.key[0], key);
    ck_assert_msg(strcmp(s.value[0], want) == 0, "'%s': got [%s], want [%s]", text, s.value[0], want);
    seen_clear(&s);
}

/* text (len bytes; 0: up to its NUL) is refused with fragment in the error. */
static void expect_error(const char *text, size_t len, const char *fragment)
{
    char err[CONF_ERR_MAX] = "";
    struct seen s = {0};
    if (len == 0)
        len = strlen(text);
    ck_assert_int_eq(envfile_parse("conf/env", text, len, collect, &s, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, fragment), "error '%s' lacks '%s'", err, fragment);
    seen_clear(&s);
}

START_TEST(test_unquoted)
{
    expect("A=plain\n", "A", "plain");
    expect("  B =  spaced value  \n", "B", "spaced value");
    /* Unlike a shell, '#' and quotes inside an unquoted value are kept. */
    expect("C=value # not a comment", "C", "value # not a comment");
    expect("D=x\"y\"'z'", "D", "x\"y\"'z'");
    expect("E=$HOME and `cmd`", "E", "$HOME and `cmd`");
    expect("F=", "F", "");
    expect("G=\n", "G", "");
    /* A backslash keeps the next character, an escaped trailing space too. */
    expect("H=a\\ b\\\\c\\\"d\\#", "H", "a b\\c\"d#");
    expect("I=trailing\\ \n", "I", "trailing ");
}
END_TEST

START_TEST(test_quoted)
{
    expect("A='single # $HOME \\n \"'", "A", "single # $HOME \\n \"");
    expect("B=\"double \\\"q\\\" \\\\ \\` \\$ \\x 'y'\"", "B", "double \"q\" \\ ` $ \\x 'y'");
    expect("C=  'padded'  \n", "C", "padded");
    expect("D=\"  inner  \"\n", "D", "  inner  ");
    /* Quoted text spans lines; the newline is kept. */
    expect("E='one\ntwo'\n", "E", "one\ntwo");
    expect("F=\"one\ntwo\"", "F", "one\ntwo");
    /* Text right after a closing quote joins the value, as systemd reads it;
     * from there on it is unquoted (quotes kept). */
    expect("G='a'\"b\"", "G", "ab");
    expect("H='x'y \"z\"", "H", "xy \"z\"");
    expect("I=''", "I", "");
}
END_TEST

START_TEST(test_continuation)
{
    expect("A=first \\\n  second\n", "A", "first   second");
    expect("B=\"one \\\ntwo\"", "B", "one two");
    /* In single quotes a backslash is just a backslash. */
    expect("C='one \\\ntwo'", "C", "one \\\ntwo");
    expect("D=ends\\\n", "D", "ends");
}
END_TEST

START_TEST(test_comments_and_lines)
{
    struct seen s;
    parse_ok("# comment\n; also a comment\n   # indented\n\nA=1\r\nB=2\r\n"
             "# a backslash \\ inside a comment\n"
             "C='x\ny'\nD=4",
             &s);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_str_eq(s.key[0], "A");
    ck_assert_str_eq(s.value[0], "1");
    ck_assert_int_eq(s.line[0], 5);
    ck_assert_str_eq(s.key[1], "B");
    ck_assert_str_eq(s.value[1], "2");
    ck_assert_int_eq(s.line[1], 6);
    ck_assert_str_eq(s.key[2], "C");
    ck_assert_int_eq(s.line[2], 8);
    ck_assert_str_eq(s.key[3], "D");
    ck_assert_str_eq(s.value[3], "4");
    ck_assert_int_eq(s.line[3], 10);
    seen_clear(&s);
    parse_ok("", &s);
    ck_assert_uint_eq(s.n, 0);
    parse_ok("\n\n  \n# only comments", &s);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_refused)
{
    expect_error("A=1\nno equals sign\n", 0, "conf/env:2: expected KEY=VALUE");
    expect_error("export A=1\n", 0, "conf/env:1: 'export' is shell syntax");
    expect_error("1A=1\n", 0, "conf/env:1: not a variable name");
    expect_error("A-B=1\n", 0, "not a variable name");
    expect_error("=1\n", 0, "not a variable name");
    expect_error("A=1\n\nB='x\ny\n", 0, "conf/env:3: quote not closed");
    expect_error("B=\"open\\\"", 0, "conf/env:1: quote not closed");
    expect_error("A=\xff\xfe\n", 0, "conf/env:1: the value is not valid UTF-8");
    expect_error("A=\xed\xa0\x80\n", 0, "not valid UTF-8");   /* a surrogate */
    expect_error("A=\xc0\xaf\n", 0, "not valid UTF-8");       /* overlong */
    /* systemd 252 continues such a comment over the next line, 254 does not. */
    expect_error("A=1\n# comment \\\nB=2\n", 0, "conf/env:2: a comment ends in a backslash");
    expect_error("A=1\0B=2\n", 8, "conf/env: contains a NUL byte");
    expect("A=caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82", "A", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
}
END_TEST

START_TEST(test_load_overrides)
{
    char path[] = "/tmp/sbr-envfile-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "SBRT_EF_A='from file'\nSBRT_EF_B=\"two \\\nlines\"\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("SBRT_EF_A", "from environment", 1);
    unsetenv("SBRT_EF_B");
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(envfile_load(path, err, sizeof(err)) == 0, "%s", err);
    /* As EnvironmentFile= over Environment=: the file wins. */
    ck_assert_str_eq(getenv("SBRT_EF_A"), "from file");
    ck_assert_str_eq(getenv("SBRT_EF_B"), "two lines");
    unlink(path);
    ck_assert_int_eq(envfile_load(path, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_envfile");
    TCase *tc = tcase_create("envfile");
    tcase_add_test(tc, test_unquoted);
    tcase_add_test(tc, test_quoted);
    tcase_add_test(tc, test_continuation);
    tcase_add_test(tc, test_comments_and_lines);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_load_overrides);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
