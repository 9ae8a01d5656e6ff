/* The core's own keys: defaults, listen addresses, log levels, the
 * worker address and the Socket.IO path. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "settings.h"

static int build(const char *text, struct core_settings *s, char *err)
{
    struct conf_file f;
    struct conf_values v;
    ck_assert_msg(conf_text_parse("conf.d/10-core.conf", text, strlen(text), &f, err, CONF_ERR_MAX) == 0, "%s", err);
    int rc = conf_values_build(settings_keys(), &f, NULL, &v, err, CONF_ERR_MAX);
    if (rc == 0) {
        rc = settings_build(&v, f.path, s, err, CONF_ERR_MAX);
        conf_values_clear(&v);
    }
    conf_file_clear(&f);
    return rc;
}

START_TEST(test_defaults)
{
    struct core_settings s;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(build("plugin = core\n", &s, err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_listen, 1);
    ck_assert_str_eq(s.listen[0], "127.0.0.1:8080");
    ck_assert_uint_eq(s.max_payload, 1000000);
    ck_assert_uint_eq(s.ping_interval_ms, 25000);
    ck_assert_uint_eq(s.ping_timeout_ms, 20000);
    ck_assert_str_eq(s.cors_origins, "*");
    ck_assert_int_eq(s.log_level, 1);
    ck_assert(strlen(s.plugin_dir) > 0);
    settings_clear(&s);
}
END_TEST

START_TEST(test_listen_and_level)
{
    struct core_settings s;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(build("plugin = core\nlisten = 127.0.0.1:1, [::1]:2,*:3\nlog_level = WARN\nplugin_dir = /opt/p\n", &s,
                        err) == 0,
                  "%s", err);
    ck_assert_uint_eq(s.n_listen, 3);
    ck_assert_str_eq(s.listen[1], "[::1]:2");
    ck_assert_int_eq(s.log_level, 2);
    ck_assert_str_eq(s.plugin_dir, "/opt/p");
    settings_clear(&s);
    ck_assert_int_eq(build("plugin = core\nlisten = localhost\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:2: key 'listen': 'localhost' is not host:port");
    ck_assert_int_eq(build("plugin = core\nlisten = h:70000\n", &s, err), -1);
    ck_assert_int_eq(build("plugin = core\nlisten =\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:2: key 'listen' is required and is empty: host:port[,host:port...] to listen on");
    ck_assert_int_eq(build("plugin = core\n\nlog_level = loud\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:3: key 'log_level' expects debug, info, warn or error, got 'loud'");
    ck_assert_int_eq(build("plugin = core\nping_interval_ms = 5\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:2: key 'ping_interval_ms': 5 is out of bounds 100..3600000");
    ck_assert_int_eq(build("plugin = core\napi_key = abc\nmax_connections = lots\n", &s, err), -1);
    ck_assert_int_eq(build("plugin = core\nfallback = x\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:2: unknown key 'fallback' for plugin 'core'");
}
END_TEST

START_TEST(test_worker_listen_and_path)
{
    struct core_settings s;
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(build("plugin = core\nworker_listen = 127.0.0.1:0\npath = /chat/io/\n", &s, err) == 0, "%s", err);
    ck_assert_str_eq(s.socketio_path, "/chat/io/");
    settings_clear(&s);
    ck_assert_msg(build("plugin = core\n", &s, err) == 0, "%s", err);
    ck_assert_str_eq(s.socketio_path, "/socket.io/");
    settings_clear(&s);
    /* Port 0 (any free port) only for the worker address. */
    ck_assert_int_eq(build("plugin = core\nlisten = 127.0.0.1:0\n", &s, err), -1);
    ck_assert_int_eq(build("plugin = core\nworker_listen = nowhere\n", &s, err), -1);
    ck_assert_str_eq(err, "conf.d/10-core.conf:2: key 'worker_listen': 'nowhere' is not host:port");
    static const char *const bad[] = {"socket.io/", "/socket.io", "/", "//", "/a//b/", "/a b/", "/a?b/",
                                      "/%2e/", "/../", "/a/./b/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "plugin = core\n\npath = %s\n", bad[i]);
        ck_assert_msg(build(text, &s, err) == -1, "path '%s' accepted", bad[i]);
        ck_assert_msg(strncmp(err, "conf.d/10-core.conf:3: key 'path': ", 35) == 0, "%s", err);
    }
    char longest[SETTINGS_PATH_MAX + 32];
    memset(longest, 'a', sizeof(longest));
    longest[0] = '/';
    longest[SETTINGS_PATH_MAX] = '/';
    longest[SETTINGS_PATH_MAX + 1] = '\0';
    char text[SETTINGS_PATH_MAX + 64];
    snprintf(text, sizeof(text), "plugin = core\npath = %s\n", longest);
    ck_assert_int_eq(build(text, &s, err), -1);
    longest[SETTINGS_PATH_MAX - 1] = '/';
    longest[SETTINGS_PATH_MAX] = '\0';
    snprintf(text, sizeof(text), "plugin = core\npath = %s\n", longest);
    ck_assert_msg(build(text, &s, err) == 0, "%s", err);
    settings_clear(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conf_settings");
    TCase *tc = tcase_create("settings");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_listen_and_level);
    tcase_add_test(tc, test_worker_listen_and_path);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
