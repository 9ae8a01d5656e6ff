/* libFuzzer harness: one conf.d file, as the core reads it.
 *
 * The text goes through conf_text_parse (lines, comments, quotes, the
 * `plugin` line, ${VAR} and ${VAR:-default} expansion against a fixed
 * environment), then through typed validation: the core's own keys and
 * settings (listen addresses, log level, bounds) for any plugin name, and a
 * table with one key of each type.  Errors must be one bounded line naming
 * the file; secrets never appear in them.  The raw bytes also go to
 * env_expand directly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "settings.h"
#include "util/listen_addr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "s3cr3t-never-shown"

static const sbr_config_key typed_keys[] = {
    {.name = "name", .type = SBR_CONF_STRING, .default_value = "x"},
    {.name = "count", .type = SBR_CONF_INT, .default_value = "5", .min = 0, .max = 100},
    {.name = "big", .type = SBR_CONF_INT, .default_value = "0"},
    {.name = "enabled", .type = SBR_CONF_BOOL, .default_value = "true"},
    {.name = "ratio", .type = SBR_CONF_DOUBLE, .default_value = "0.5", .min = 0, .max = 1},
    {.name = "secret", .type = SBR_CONF_STRING, .flags = SBR_CONF_SECRET},
    {.name = "needed", .type = SBR_CONF_STRING, .default_value = "y", .flags = SBR_CONF_REQUIRED},
    SBR_CONF_END
};

static void fail(void) { abort(); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char big[4097];
    memset(big, 'B', sizeof(big) - 1);
    setenv("FUZZ_A", "a", 1);
    setenv("FUZZ_EMPTY", "", 1);
    setenv("FUZZ_PORT", "8080", 1);
    setenv("FUZZ_NESTED", "${FUZZ_A}", 1); /* expanded once, never again */
    setenv("FUZZ_BIG", big, 1);
    setenv("FUZZ_SECRET", FUZZ_SECRET, 1);
    unsetenv("FUZZ_UNSET");
    return 0;
}

static void check_err(const char *err, size_t errlen)
{
    if (strnlen(err, errlen) >= errlen)
        fail();
}

/* An error about the typed table's secret key never quotes its value. */
static void check_typed_err(const struct conf_file *file, const char *err, size_t errlen)
{
    check_err(err, errlen);
    const struct conf_entry *e = conf_file_find(file, "secret");
    if (!e || strlen(e->value) < 8)
        return;
    char prefix[128];
    int n = snprintf(prefix, sizeof(prefix), "%s:%d: key 'secret'", file->path, e->line);
    if (n > 0 && strncmp(err, prefix, (size_t)n) == 0 && strstr(err + n, e->value))
        fail();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char path[] = "conf.d/10-core.conf";
    char err[CONF_ERR_MAX];
    struct conf_file file;
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    memset(err, 0, sizeof(err));
    if (conf_text_parse(path, text, size, &file, err, sizeof(err)) == 0) {
        if (!file.plugin || strcmp(file.path, path) != 0)
            fail();
        for (size_t i = 0; i < file.n_entries; i++)
            if (!file.entries[i].key || !file.entries[i].value || file.entries[i].line < 1)
                fail();
        struct conf_values values;
        memset(err, 0, sizeof(err));
        if (conf_values_build(settings_keys(), &file, NULL, &values, err, sizeof(err)) == 0) {
            struct core_settings settings;
            memset(err, 0, sizeof(err));
            if (settings_build(&values, path, &settings, err, sizeof(err)) == 0)
                settings_clear(&settings);
            else if (strncmp(err, path, strlen(path)) != 0)
                fail();
            conf_values_clear(&values);
        } else if (strncmp(err, path, strlen(path)) != 0) {
            fail();
        }
        check_err(err, sizeof(err));
        memset(err, 0, sizeof(err));
        if (conf_values_build(typed_keys, &file, NULL, &values, err, sizeof(err)) == 0) {
            (void)conf_values_int(&values, "count");
            (void)conf_values_bool(&values, "enabled");
            (void)conf_values_double(&values, "ratio");
            (void)conf_values_string(&values, "name");
            conf_values_clear(&values);
        } else {
            check_typed_err(&file, err, sizeof(err));
        }
        conf_file_clear(&file);
    } else {
        check_err(err, sizeof(err));
        if (strncmp(err, path, strlen(path)) != 0)
            fail();
    }
    free(text);

    /* env_expand sees NUL-terminated text. */
    char *z = malloc(size + 1);
    if (!z)
        return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    char *out = NULL;
    memset(err, 0, sizeof(err));
    if (env_expand(z, &out, err, sizeof(err)) == 0) {
        if (!out)
            fail();
        free(out);
    } else {
        check_err(err, sizeof(err));
    }
    int64_t i64;
    int b;
    double d;
    (void)conf_parse_int(z, &i64);
    (void)conf_parse_bool(z, &b);
    (void)conf_parse_double(z, &d);
    char host[256];
    int port;
    (void)listen_addr_parse(z, host, sizeof(host), &port, 1);
    free(z);
    return 0;
}
