/* conf.d files: `key = value` lines, `#` comments, values expanded from the
 * environment; the first key names the plugin the file configures. */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A conf file is a few hundred bytes; anything this large is a mistake. */
#define CONF_FILE_MAX (1024 * 1024)

static int conf_key_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static int conf_plugin_name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

void conf_file_clear(struct conf_file *file)
{
    for (size_t i = 0; i < file->n_entries; i++) {
        free(file->entries[i].key);
        free(file->entries[i].value);
    }
    free(file->entries);
    free(file->path);
    free(file->plugin);
    memset(file, 0, sizeof(*file));
}

const struct conf_entry *conf_file_find(const struct conf_file *file, const char *key)
{
    for (size_t i = 0; i < file->n_entries; i++)
        if (strcmp(file->entries[i].key, key) == 0)
            return &file->entries[i];
    return NULL;
}

static int conf_entry_add(struct conf_file *file, const char *key, size_t key_len, char *value, int line)
{
    struct conf_entry *e = realloc(file->entries, (file->n_entries + 1) * sizeof(*e));
    if (!e)
        return -1;
    file->entries = e;
    char *k = strndup(key, key_len);
    if (!k)
        return -1;
    e[file->n_entries++] = (struct conf_entry){.key = k, .value = value, .line = line};
    return 0;
}

/* Handle one line [p, end); 0 or -1 with the reason in err. */
static int conf_line_parse(struct conf_file *out, const char *p, const char *end, int lineno, char *err, size_t errlen)
{
    char why[CONF_ERR_MAX];
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (p == end || *p == '#')
        return 0;
    const char *key = p;
    while (p < end && conf_key_char(*p))
        p++;
    size_t key_len = (size_t)(p - key);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (key_len == 0 || p == end || *p != '=') {
        snprintf(err, errlen, "%s:%d: expected 'key = value'", out->path, lineno);
        return -1;
    }
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    /* A value in double quotes keeps its surrounding spaces. */
    if (end - p >= 2 && *p == '"' && end[-1] == '"') {
        p++;
        end--;
    }
    char *raw = strndup(p, (size_t)(end - p));
    char *value = NULL;
    if (!raw) {
        snprintf(err, errlen, "%s:%d: out of memory", out->path, lineno);
        return -1;
    }
    int rc = env_expand(raw, &value, why, sizeof(why));
    free(raw);
    if (rc < 0) {
        snprintf(err, errlen, "%s:%d: %s", out->path, lineno, why);
        return -1;
    }
    int is_plugin = key_len == 6 && memcmp(key, "plugin", 6) == 0;
    if (!out->plugin && !is_plugin) {
        free(value);
        snprintf(err, errlen, "%s:%d: the first key must be 'plugin = NAME'", out->path, lineno);
        return -1;
    }
    if (is_plugin) {
        if (out->plugin) {
            free(value);
            snprintf(err, errlen, "%s:%d: 'plugin' given twice (one file per plugin)", out->path, lineno);
            return -1;
        }
        if (!conf_plugin_name_ok(value)) {
            free(value);
            snprintf(err, errlen, "%s:%d: bad plugin name (lowercase letters, digits, '-' and '_')", out->path, lineno);
            return -1;
        }
        out->plugin = value;
        out->plugin_line = lineno;
        return 0;
    }
    if (conf_entry_add(out, key, key_len, value, lineno) < 0) {
        free(value);
        snprintf(err, errlen, "%s:%d: out of memory", out->path, lineno);
        return -1;
    }
    return 0;
}

int conf_text_parse(const char *path, const char *text, size_t len, struct conf_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->path = strdup(path);
    if (!out->path) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: NUL byte in file", path);
        goto fail;
    }
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        lineno++;
        if (conf_line_parse(out, p, line_end, lineno, err, errlen) < 0)
            goto fail;
        p = nl ? nl + 1 : end;
    }
    if (!out->plugin) {
        snprintf(err, errlen, "%s:1: no 'plugin = NAME' line", path);
        goto fail;
    }
    return 0;
fail:
    conf_file_clear(out);
    return -1;
}

int conf_file_parse(const char *path, struct conf_file *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CONF_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CONF_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    if (n > CONF_FILE_MAX) {
        free(buf);
        snprintf(err, errlen, "%s: file larger than %d bytes", path, CONF_FILE_MAX);
        return -1;
    }
    int rc = conf_text_parse(path, buf, n, out, err, errlen);
    free(buf);
    return rc;
}
