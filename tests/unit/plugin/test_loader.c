/* The plugin loader against the fixture plugins: a good one, a missing .so,
 * no descriptor symbol, an ABI mismatch, a failing on_load, bad config, a
 * fallback, whole-set loading, and a client event claimed twice (through
 * the core's own host table).  Elsewhere a fake host table stands in for
 * the core's services. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"
#include "plugin/plugin.h"

#define FIXTURES SBR_TEST_BUILD_DIR "/tests/fixtures"

static void fake_log(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...)
{
}

static void fake_set_error(sbr_plugin *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof(self->error), fmt, ap);
    va_end(ap);
}

static void fake_set_error_key(sbr_plugin *self, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->error, sizeof(self->error), fmt, ap);
    va_end(ap);
    snprintf(self->error_key, sizeof(self->error_key), "%s", key);
}

static const char *fake_config_string(sbr_plugin *self, const char *key)
{
    return conf_values_string(&self->values, key);
}

static int fake_hook_register(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *userdata)
{
    return plugin_is_loading(self) ? hooks_register(self, id, fn, userdata) : SBR_ERR_STATE;
}

static const sbr_api fake_api = {
    .abi_version = SBR_ABI_VERSION,
    .struct_size = sizeof(sbr_api),
    .log = fake_log,
    .set_error = fake_set_error,
    .config_string = fake_config_string,
    .hook_register = fake_hook_register,
    .set_error_key = fake_set_error_key,
};

static void parse(const char *path, const char *text, struct conf_file *f)
{
    char err[CONF_ERR_MAX] = "";
    ck_assert_msg(conf_text_parse(path, text, strlen(text), f, err, sizeof(err)) == 0, "%s", err);
}

static void open_fails(const char *path, const char *text, const char *want)
{
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    parse(path, text, &f);
    ck_assert_ptr_null(plugin_open(&f, FIXTURES, err, sizeof(err)));
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s' want '%s'", err, want);
    conf_file_clear(&f);
}

START_TEST(test_good_plugin)
{
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    parse("conf.d/50-good.conf", "plugin = good\ngreeting = hi\ncount = 5\ntoken = t0k3n\n", &f);
    struct sbr_plugin *p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->name, "good");
    ck_assert_str_eq(p->desc->version, "1.0.0");
    ck_assert_str_eq(p->so_path, FIXTURES "/good.so");
    ck_assert_str_eq(conf_values_string(&p->values, "greeting"), "hi");
    ck_assert_int_eq(conf_values_int(&p->values, "count"), 5);
    ck_assert_int_eq(conf_values_bool(&p->values, "enabled"), 1);
    ck_assert_int_eq(plugin_start(p, &fake_api, err, sizeof(err)), 0);
    ck_assert_int_eq(p->started, 1);
    ck_assert_int_eq(plugin_is_loading(p), 0);
    plugin_close(p);
    conf_file_clear(&f);
}
END_TEST

START_TEST(test_missing_so)
{
    open_fails("conf.d/50-x.conf", "plugin = nothere\n",
               "conf.d/50-x.conf:1: plugin 'nothere' cannot be loaded: " FIXTURES "/nothere.so");
    open_fails("conf.d/50-x.conf", "# explicit\nplugin = good\npath = /nonexistent/good.so\n",
               "conf.d/50-x.conf:3: plugin 'good' cannot be loaded: /nonexistent/good.so");
}
END_TEST

START_TEST(test_no_symbol)
{
    open_fails("conf.d/50-ns.conf", "plugin = nosymbol\n",
               "conf.d/50-ns.conf:1: plugin 'nosymbol' (" FIXTURES "/nosymbol.so) has no 'sbr_plugin_entry' symbol");
}
END_TEST

START_TEST(test_abi_mismatch)
{
    char want[CONF_ERR_MAX];
    snprintf(want, sizeof(want), "conf.d/40-typing.conf:2: plugin 'typing' built for SDK ABI %d, core provides %d",
             SBR_ABI_VERSION + 1, SBR_ABI_VERSION);
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    parse("conf.d/40-typing.conf", "plugin = typing\npath = " FIXTURES "/abi-mismatch.so\n", &f);
    ck_assert_ptr_null(plugin_open(&f, FIXTURES, err, sizeof(err)));
    ck_assert_str_eq(err, want);
    conf_file_clear(&f);
}
END_TEST

START_TEST(test_failing_on_load)
{
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    parse("conf.d/55-failing.conf", "# fails\nplugin = failing\n", &f);
    struct sbr_plugin *p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(plugin_start(p, &fake_api, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/55-failing.conf:2: plugin 'failing' failed to load: database unreachable at db:5432");
    /* The hook it registered before failing is gone. */
    ck_assert_int_eq(hooks_any(SBR_EVENT_CONNECT), 0);
    ck_assert_int_eq(p->started, 0);
    plugin_close(p);
    conf_file_clear(&f);
}
END_TEST

/* An error about a key is reported at that key's line, with its name. */
START_TEST(test_error_names_the_key)
{
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    parse("conf.d/55-failing.conf", "# fails\nplugin = failing\n\nerror_key = database\ndatabase = db:1\n", &f);
    struct sbr_plugin *p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    /* on_check runs on the core's own check table. */
    ck_assert_int_eq(plugin_check(p, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/55-failing.conf:5: plugin 'failing': key 'database': database unreachable at db:1");
    ck_assert_int_eq(plugin_start(p, &fake_api, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/55-failing.conf:5: plugin 'failing' failed to load: key 'database': "
                          "database unreachable at db:1");
    plugin_close(p);
    conf_file_clear(&f);
    /* A key the file does not set, or that the plugin does not declare: the
     * plugin line, still naming the key. */
    parse("conf.d/55-failing.conf", "plugin = failing\nerror_key = database\n", &f);
    p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_int_eq(plugin_check(p, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/55-failing.conf:1: plugin 'failing': key 'database': database unreachable at db:5432");
    plugin_close(p);
    conf_file_clear(&f);
    parse("conf.d/55-failing.conf", "plugin = failing\n\nerror_key = nosuchkey\n", &f);
    p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_int_eq(plugin_check(p, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/55-failing.conf:1: plugin 'failing': key 'nosuchkey': database unreachable at db:5432");
    plugin_close(p);
    conf_file_clear(&f);
}
END_TEST

START_TEST(test_bad_config)
{
    open_fails("conf.d/50-good.conf", "plugin = good\ncount = 11\n",
               "conf.d/50-good.conf:2: key 'count': 11 is out of bounds 1..10");
    open_fails("conf.d/50-good.conf", "plugin = good\ncolour = red\n",
               "conf.d/50-good.conf:2: unknown key 'colour' for plugin 'good'");
    open_fails("conf.d/50-good.conf", "plugin = good\ntoken = 1\ntoken = 2\n",
               "conf.d/50-good.conf:3: key 'token' given twice");
}
END_TEST

START_TEST(test_fallback)
{
    struct conf_file f;
    char err[CONF_ERR_MAX] = "";
    /* The keys belong to the missing plugin; the fallback runs on its defaults. */
    parse("conf.d/30-bus.conf", "plugin = absent\nfallback = good\nurl = redis://x\ncount = 99\n", &f);
    struct sbr_plugin *p = plugin_open(&f, FIXTURES, err, sizeof(err));
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->name, "good");
    ck_assert_str_eq(p->conf_name, "absent");
    ck_assert_int_eq(p->is_fallback, 1);
    ck_assert_int_eq(conf_values_int(&p->values, "count"), 3);
    plugin_close(p);
    conf_file_clear(&f);
    /* A fallback applies to a .so that cannot be loaded, not to a bad one. */
    open_fails("conf.d/30-bus.conf", "plugin = nosymbol\nfallback = good\n",
               "conf.d/30-bus.conf:1: plugin 'nosymbol' (");
    open_fails("conf.d/30-bus.conf", "plugin = absent\nfallback = alsoabsent\n",
               "conf.d/30-bus.conf:2: plugin 'alsoabsent' cannot be loaded");
}
END_TEST

static void add_file(struct conf_set *set, const char *path, const char *text)
{
    set->files = realloc(set->files, (set->n_files + 1) * sizeof(*set->files));
    parse(path, text, &set->files[set->n_files++]);
}

START_TEST(test_registry)
{
    struct conf_set set = {0};
    char err[CONF_ERR_MAX] = "";
    add_file(&set, "d/10-core.conf", "plugin = core\nlisten = 127.0.0.1:1\n");
    add_file(&set, "d/20-good.conf", "plugin = good\n");
    ck_assert_msg(registry_load(&set, FIXTURES, &fake_api, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(registry_count(), 1);
    ck_assert_str_eq(registry_at(0)->name, "good");
    ck_assert_ptr_nonnull(registry_find_conf("good"));
    ck_assert_ptr_null(registry_find_conf("core"));
    /* Reload: a reloadable key changes, a fixed one is kept. */
    conf_set_clear(&set);
    add_file(&set, "d/20-good.conf", "plugin = good\ngreeting = bonjour\ncount = 9\n");
    ck_assert_msg(registry_reload(&set, err, sizeof(err)) == 0, "%s", err);
    ck_assert_str_eq(conf_values_string(&registry_at(0)->values, "greeting"), "bonjour");
    ck_assert_int_eq(conf_values_int(&registry_at(0)->values, "count"), 3);
    /* An invalid reload changes nothing. */
    conf_set_clear(&set);
    add_file(&set, "d/20-good.conf", "plugin = good\ngreeting = hola\ncount = 11\n");
    ck_assert_int_eq(registry_reload(&set, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "d/20-good.conf:3: key 'count': 11 is out of bounds 1..10");
    ck_assert_str_eq(conf_values_string(&registry_at(0)->values, "greeting"), "bonjour");
    registry_unload_all();
    ck_assert_uint_eq(registry_count(), 0);
    conf_set_clear(&set);
    /* One bad file: nothing stays loaded, and no on_load ran before validation. */
    add_file(&set, "d/20-good.conf", "plugin = good\n");
    add_file(&set, "d/30-failing.conf", "plugin = failing\n");
    ck_assert_int_eq(registry_load(&set, FIXTURES, &fake_api, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "d/30-failing.conf:1: plugin 'failing' failed to load: database unreachable at db:5432");
    ck_assert_uint_eq(registry_count(), 0);
    conf_set_clear(&set);
    add_file(&set, "d/20-good.conf", "plugin = good\n");
    add_file(&set, "d/30-other.conf", "plugin = other\nfallback = good\n");
    ck_assert_int_eq(registry_load(&set, FIXTURES, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "d/30-other.conf:1: plugin 'good' is already loaded by d/20-good.conf");
    conf_set_clear(&set);
}
END_TEST

/* Two plugins claim one client event: start-up stops with the second
 * one's file and line, whatever its on_load answered, and nothing stays. */
START_TEST(test_event_claimed_twice)
{
    struct conf_set set = {0};
    char err[CONF_ERR_MAX] = "";
    add_file(&set, "conf.d/60-chat.conf", "plugin = chat\npath = " FIXTURES "/claimer.so\nhandles = send_message\n");
    add_file(&set, "conf.d/70-copy.conf",
             "# a second chat plugin\nplugin = copy\npath = " FIXTURES "/claimer.so\n"
             "filters = send_message\nhandles = pin_message, send_message\n");
    ck_assert_int_eq(registry_load(&set, FIXTURES, api_table(), err, sizeof(err)), -1);
    ck_assert_str_eq(err, "conf.d/70-copy.conf:2: plugin 'copy': event 'send_message' is already handled by plugin "
                          "'chat'");
    ck_assert_uint_eq(registry_count(), 0);
    /* Everything both registered went with them (the entries stay, empty). */
    const struct hook_named *named = hooks_named_find("send_message");
    size_t n_filters = 99;
    ck_assert_ptr_nonnull(named);
    hooks_named_filters(named, &n_filters);
    ck_assert_uint_eq(n_filters, 0);
    ck_assert_ptr_null(hooks_named_handler(named));
    ck_assert_ptr_null(hooks_named_handler(hooks_named_find("pin_message")));
    conf_set_clear(&set);
    /* Different names: both load. */
    add_file(&set, "conf.d/60-chat.conf", "plugin = chat\npath = " FIXTURES "/claimer.so\nhandles = send_message\n");
    add_file(&set, "conf.d/70-pins.conf",
             "plugin = pins\npath = " FIXTURES "/claimer.so\nhandles = pin_message\nfilters = send_message\n");
    ck_assert_msg(registry_load(&set, FIXTURES, api_table(), err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(registry_count(), 2);
    ck_assert_ptr_nonnull(hooks_named_handler(hooks_named_find("pin_message")));
    hooks_named_filters(hooks_named_find("send_message"), &n_filters);
    ck_assert_uint_eq(n_filters, 1);
    registry_unload_all();
    ck_assert_ptr_null(hooks_named_handler(hooks_named_find("send_message")));
    conf_set_clear(&set);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_loader");
    TCase *tc = tcase_create("loader");
    tcase_add_test(tc, test_good_plugin);
    tcase_add_test(tc, test_missing_so);
    tcase_add_test(tc, test_no_symbol);
    tcase_add_test(tc, test_abi_mismatch);
    tcase_add_test(tc, test_failing_on_load);
    tcase_add_test(tc, test_error_names_the_key);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_fallback);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_event_claimed_twice);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
