/* Environment files in the syntax of systemd's EnvironmentFile= (systemd.exec(5)),
 * for `--env-file`: the daemon and `--check-config` then read a secret
 * exactly as the unit's EnvironmentFile= does.
 *
 *   - KEY=VALUE assignments; whitespace around the key and the value is
 *     dropped; lines starting with '#' or ';' are comments.
 *   - Unquoted values keep interior whitespace, quotes after their first
 *     character and '#'; a backslash keeps the next character, and a
 *     backslash at the end of a line continues the value on the next one.
 *   - 'single quotes': verbatim, may span lines.  "double quotes": may span
 *     lines; \" \\ \` \$ keep that character, backslash-newline continues,
 *     any other backslash is kept with its character.  Text right after a
 *     closing quote joins the value ('a'b is ab), as systemd reads it.
 *
 * Where systemd would silently skip a line (no '=', a name that is not a
 * variable name, `export KEY=...`, text that is not UTF-8), guess (a quote
 * never closed) or differ between versions (a comment ending in a
 * backslash), this parser refuses with "path:line: reason" instead, so a
 * check catches what the service would quietly lose. */
#include "conf/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENVFILE_MAX_BYTES (1024 * 1024)

struct envfile {
    const char *p, *end;
    int line;        /* of p */
    char *key, *value; /* each as large as the text: a value is never longer */
    size_t n_key, n_value;
    const char *why; /* the reason of an error */
};

static int envfile_newline(char c)
{
    return c == '\n' || c == '\r';
}

static int envfile_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next character, counting lines. */
static char envfile_next(struct envfile *f)
{
    char c = *f->p++;
    if (c == '\n')
        f->line++;
    return c;
}

/* A comment runs to the end of its line.  One ending in a backslash is
 * refused: systemd up to 253 carries the comment over to the next line (and
 * skips that line's assignment), later versions do not. */
static int envfile_skip_comment(struct envfile *f)
{
    while (f->p < f->end) {
        char c = envfile_next(f);
        if (envfile_newline(c))
            return 0;
        if (c == '\\' && f->p < f->end && envfile_newline(*f->p)) {
            f->why = "a comment ends in a backslash: systemd before 254 continues it onto the next line, later "
                     "versions do not; remove the backslash";
            return -1;
        }
    }
    return 0;
}

static int envfile_utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n)
            return 0;
        uint32_t cp = len == 1 ? c : c & (0x7fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}

static int envfile_name_ok(const char *k, size_t n)
{
    if (n == 0 || (k[0] >= '0' && k[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* The key, up to '=' (consumed); -1 with why when the line has none. */
static int envfile_key(struct envfile *f)
{
    f->n_key = 0;
    while (f->p < f->end && !envfile_newline(*f->p) && *f->p != '=')
        f->key[f->n_key++] = envfile_next(f);
    while (f->n_key > 0 && envfile_blank(f->key[f->n_key - 1]))
        f->n_key--;
    f->key[f->n_key] = '\0';
    if (f->p == f->end || *f->p != '=') {
        f->why = "expected KEY=VALUE (systemd skips such a line)";
        return -1;
    }
    envfile_next(f);
    if (strncmp(f->key, "export", 6) == 0 && (f->key[6] == ' ' || f->key[6] == '\t')) {
        f->why = "'export' is shell syntax: systemd skips this line; write KEY=VALUE";
        return -1;
    }
    if (!envfile_name_ok(f->key, f->n_key) || !envfile_utf8_ok((const unsigned char *)f->key, f->n_key)) {
        f->why = "not a variable name (letters, digits and '_', not starting with a digit): systemd skips this line";
        return -1;
    }
    return 0;
}

enum envfile_state { PRE_VALUE, VALUE, VALUE_ESCAPE, SINGLE_QUOTE, DOUBLE_QUOTE, DOUBLE_QUOTE_ESCAPE };

/* One character of a value; returns 1 when the value ended at a newline. */
static int envfile_value_char(struct envfile *f, enum envfile_state *state, size_t *trailing, char c)
{
    switch (*state) {
    case PRE_VALUE:
        if (envfile_newline(c))
            return 1;
        *state = c == '\'' ? SINGLE_QUOTE : c == '"' ? DOUBLE_QUOTE : c == '\\' ? VALUE_ESCAPE : PRE_VALUE;
        if (*state == PRE_VALUE && !envfile_blank(c)) {
            *state = VALUE;
            f->value[f->n_value++] = c;
        }
        *trailing = f->n_value;
        return 0;
    case VALUE:
        if (envfile_newline(c))
            return 1;
        if (c == '\\')
            *state = VALUE_ESCAPE;
        else
            f->value[f->n_value++] = c;
        /* Whitespace at the end of the line is dropped, escaped or not kept. */
        *trailing = c == '\\' || !envfile_blank(c) ? f->n_value : *trailing;
        return 0;
    case VALUE_ESCAPE:
        *state = VALUE;
        if (!envfile_newline(c))
            f->value[f->n_value++] = c;
        *trailing = f->n_value;
        return 0;
    case SINGLE_QUOTE:
        if (c == '\'')
            *state = PRE_VALUE;
        else
            f->value[f->n_value++] = c;
        return 0;
    case DOUBLE_QUOTE:
        if (c == '"')
            *state = PRE_VALUE;
        else if (c == '\\')
            *state = DOUBLE_QUOTE_ESCAPE;
        else
            f->value[f->n_value++] = c;
        return 0;
    case DOUBLE_QUOTE_ESCAPE:
        *state = DOUBLE_QUOTE;
        if (c != '\n' && !strchr("\"\\`$", c))
            f->value[f->n_value++] = '\\';
        if (c != '\n')
            f->value[f->n_value++] = c;
        return 0;
    }
    return 0;
}

/* The value after '=', up to the end of its (last) line; -1 with why. */
static int envfile_value(struct envfile *f)
{
    enum envfile_state state = PRE_VALUE;
    size_t trailing = 0;
    f->n_value = 0;
    int ended = 0;
    while (!ended && f->p < f->end)
        ended = envfile_value_char(f, &state, &trailing, envfile_next(f));
    if (state == SINGLE_QUOTE || state == DOUBLE_QUOTE || state == DOUBLE_QUOTE_ESCAPE) {
        f->why = "quote not closed before the end of the file";
        return -1;
    }
    if (state == VALUE || state == VALUE_ESCAPE)
        f->n_value = trailing;
    f->value[f->n_value] = '\0';
    if (!envfile_utf8_ok((const unsigned char *)f->value, f->n_value)) {
        f->why = "the value is not valid UTF-8: systemd skips this line";
        return -1;
    }
    return 0;
}

int envfile_parse(const char *path, const char *text, size_t len, envfile_fn fn, void *userdata, char *err,
                  size_t errlen)
{
    if (memchr(text, '\0', len)) {
        snprintf(err, errlen, "%s: contains a NUL byte: not a text file", path);
        return -1;
    }
    struct envfile f = {.p = text, .end = text + len, .line = 1};
    f.key = malloc(len + 1);
    f.value = malloc(len + 1);
    int rc = 0;
    if (!f.key || !f.value) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -1;
    }
    while (rc == 0 && f.p < f.end) {
        if (envfile_blank(*f.p)) {
            envfile_next(&f);
            continue;
        }
        int line = f.line;
        if (*f.p == '#' || *f.p == ';') {
            if (envfile_skip_comment(&f) < 0) {
                snprintf(err, errlen, "%s:%d: %s", path, line, f.why);
                rc = -1;
            }
            continue;
        }
        if (envfile_key(&f) < 0 || envfile_value(&f) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line, f.why);
            rc = -1;
        } else if (fn(f.key, f.value, line, userdata) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, line, strerror(errno));
            rc = -1;
        }
    }
    free(f.key);
    free(f.value);
    return rc;
}

static int envfile_set(const char *key, const char *value, int line, void *userdata)
{
    /* As systemd's EnvironmentFile= overrides Environment=, the file wins. */
    return setenv(key, value, 1);
}

int envfile_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(ENVFILE_MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, ENVFILE_MAX_BYTES + 1, f) : 0;
    int failed = ferror(f);
    fclose(f);
    int rc = -1;
    if (!text)
        snprintf(err, errlen, "%s: out of memory", path);
    else if (failed)
        snprintf(err, errlen, "%s: read error", path);
    else if (len > ENVFILE_MAX_BYTES)
        snprintf(err, errlen, "%s: larger than %d bytes: not an environment file", path, ENVFILE_MAX_BYTES);
    else
        rc = envfile_parse(path, text, len, envfile_set, NULL, err, errlen);
    free(text);
    return rc;
}
