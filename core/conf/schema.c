/* Typed validation of a conf.d file against the sbr_config_key table its
 * plugin (or the core) declares. */
#include "conf/conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

int conf_parse_int(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int conf_parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int conf_parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static size_t schema_count(const sbr_config_key *keys)
{
    size_t n = 0;
    while (keys && keys[n].name)
        n++;
    return n;
}

static const char *schema_type_name(enum sbr_config_type type)
{
    switch (type) {
    case SBR_CONF_INT:
        return "an integer";
    case SBR_CONF_BOOL:
        return "a boolean (true/false, yes/no, on/off, 1/0)";
    case SBR_CONF_DOUBLE:
        return "a number";
    default:
        return "a string";
    }
}

/* Check one value; 0, or -1 with the reason (no file:line) in why. */
static int schema_check(const sbr_config_key *key, const char *text, char *why, size_t whylen)
{
    int secret = (key->flags & SBR_CONF_SECRET) != 0;
    double num = 0;
    int64_t i64;
    int b;
    if ((key->flags & SBR_CONF_REQUIRED) && !*text) {
        /* The help text says where the value comes from (e.g. which variable). */
        if (key->help && *key->help)
            snprintf(why, whylen, "key '%s' is required and is empty: %s", key->name, key->help);
        else
            snprintf(why, whylen, "key '%s' is required and is empty", key->name);
        return -1;
    }
    switch (key->type) {
    case SBR_CONF_STRING:
        return 0;
    case SBR_CONF_INT:
        if (!*text && !(key->flags & SBR_CONF_REQUIRED))
            return 0;
        if (conf_parse_int(text, &i64) < 0)
            goto bad_type;
        num = (double)i64;
        break;
    case SBR_CONF_BOOL:
        if (!*text)
            return 0;
        if (conf_parse_bool(text, &b) < 0)
            goto bad_type;
        return 0;
    case SBR_CONF_DOUBLE:
        if (!*text)
            return 0;
        if (conf_parse_double(text, &num) < 0)
            goto bad_type;
        break;
    default:
        snprintf(why, whylen, "key '%s' has an unknown type in its declaration", key->name);
        return -1;
    }
    if (key->min < key->max && (num < key->min || num > key->max)) {
        if (secret)
            snprintf(why, whylen, "key '%s': value out of bounds %.15g..%.15g", key->name, key->min, key->max);
        else
            snprintf(why, whylen, "key '%s': %s is out of bounds %.15g..%.15g", key->name, text, key->min, key->max);
        return -1;
    }
    return 0;
bad_type:
    if (secret)
        snprintf(why, whylen, "key '%s' expects %s", key->name, schema_type_name(key->type));
    else
        snprintf(why, whylen, "key '%s' expects %s, got '%s'", key->name, schema_type_name(key->type), text);
    return -1;
}

void conf_values_clear(struct conf_values *values)
{
    for (size_t i = 0; values->text && i < values->n; i++)
        free(values->text[i]);
    free(values->text);
    free(values->line);
    memset(values, 0, sizeof(*values));
}

static int schema_ignored(const char *const *ignored, const char *key)
{
    for (; ignored && *ignored; ignored++)
        if (strcmp(*ignored, key) == 0)
            return 1;
    return 0;
}

int conf_values_build(const sbr_config_key *keys, const struct conf_file *file, const char *const *ignored,
                      struct conf_values *out, char *err, size_t errlen)
{
    char why[CONF_ERR_MAX];
    const char *path = file ? file->path : "(defaults)";
    memset(out, 0, sizeof(*out));
    out->keys = keys;
    out->n = schema_count(keys);
    out->text = calloc(out->n + 1, sizeof(*out->text));
    out->line = calloc(out->n + 1, sizeof(*out->line));
    if (!out->text || !out->line) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (size_t e = 0; file && e < file->n_entries; e++) {
        const struct conf_entry *entry = &file->entries[e];
        if (schema_ignored(ignored, entry->key))
            continue;
        int idx = conf_values_index(out, entry->key);
        if (idx < 0) {
            snprintf(err, errlen, "%s:%d: unknown key '%s' for plugin '%s'", path, entry->line, entry->key,
                     file->plugin);
            goto fail;
        }
        if (out->text[idx]) {
            snprintf(err, errlen, "%s:%d: key '%s' given twice (first on line %d)", path, entry->line, entry->key,
                     out->line[idx]);
            goto fail;
        }
        if (schema_check(&keys[idx], entry->value, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, entry->line, why);
            goto fail;
        }
        out->text[idx] = strdup(entry->value);
        out->line[idx] = entry->line;
        if (!out->text[idx]) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    for (size_t i = 0; i < out->n; i++) {
        if (out->text[i])
            continue;
        const char *def = keys[i].default_value ? keys[i].default_value : "";
        if (schema_check(&keys[i], def, why, sizeof(why)) < 0) {
            if (file)
                snprintf(err, errlen, "%s:%d: %s (not set in the file)", path, file->plugin_line, why);
            else
                snprintf(err, errlen, "%s: %s", path, why);
            goto fail;
        }
        out->text[i] = strdup(def);
        if (!out->text[i]) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
    }
    return 0;
fail:
    conf_values_clear(out);
    return -1;
}

int conf_values_index(const struct conf_values *values, const char *key)
{
    if (!key)
        return -1;
    for (size_t i = 0; i < values->n; i++)
        if (strcmp(values->keys[i].name, key) == 0)
            return (int)i;
    return -1;
}

const char *conf_values_string(const struct conf_values *values, const char *key)
{
    int i = conf_values_index(values, key);
    return i < 0 ? NULL : values->text[i];
}

int64_t conf_values_int(const struct conf_values *values, const char *key)
{
    const char *t = conf_values_string(values, key);
    int64_t v = 0;
    if (t)
        conf_parse_int(t, &v);
    return v;
}

int conf_values_bool(const struct conf_values *values, const char *key)
{
    const char *t = conf_values_string(values, key);
    int v = 0;
    if (t)
        conf_parse_bool(t, &v);
    return v;
}

double conf_values_double(const struct conf_values *values, const char *key)
{
    const char *t = conf_values_string(values, key);
    double v = 0;
    if (t)
        conf_parse_double(t, &v);
    return v;
}

void conf_values_keep_fixed(const char *who, const char *file, struct conf_values *old, struct conf_values *fresh)
{
    for (size_t k = 0; k < fresh->n && k < old->n; k++) {
        if (strcmp(old->text[k], fresh->text[k]) == 0 || (fresh->keys[k].flags & SBR_CONF_RELOADABLE))
            continue;
        log_warn("core", "%s:%d: %s key '%s' changed; it takes effect after a restart", file,
                 fresh->line[k] ? fresh->line[k] : 1, who, fresh->keys[k].name);
        char *keep = old->text[k];
        old->text[k] = fresh->text[k];
        fresh->text[k] = keep;
    }
}
