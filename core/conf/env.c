/* The environment side of configuration: .env files and ${VAR} expansion. */
#include "conf/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting depth of ${...} defaults, so hostile input cannot recurse deeply. */
#define ENV_MAX_DEPTH 8

struct strbuf {
    char *data;
    size_t len, cap;
};

static int strbuf_append(struct strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int env_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Expand from *pp until the end of the string or, when `inner`, an unmatched
 * '}' (left unconsumed).  Appends to out. */
static int env_expand_into(const char **pp, int inner, int depth, struct strbuf *out, char *err, size_t errlen)
{
    const char *p = *pp;
    if (depth > ENV_MAX_DEPTH) {
        snprintf(err, errlen, "${...} nested too deeply");
        return -1;
    }
    while (*p && !(inner && *p == '}')) {
        if (p[0] != '$' || p[1] != '{') {
            if (strbuf_append(out, p, 1) < 0)
                goto nomem;
            p++;
            continue;
        }
        p += 2;
        const char *name = p;
        while (env_name_char(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len == 0 || name_len > 255) {
            snprintf(err, errlen, "bad variable name in ${...}");
            return -1;
        }
        char var[256];
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *value = getenv(var);
        if (*p == '}') {
            p++;
            if (value && strbuf_append(out, value, strlen(value)) < 0)
                goto nomem;
            continue;
        }
        if (p[0] != ':' || p[1] != '-') {
            snprintf(err, errlen, "unexpected character in ${%s...}: only ${VAR} and ${VAR:-default} are supported", var);
            return -1;
        }
        p += 2;
        /* The default is expanded even when unused, so errors in it are
         * always reported. */
        struct strbuf def = {0};
        if (env_expand_into(&p, 1, depth + 1, &def, err, errlen) < 0) {
            free(def.data);
            return -1;
        }
        if (*p != '}') {
            free(def.data);
            snprintf(err, errlen, "unterminated ${%s:-...}", var);
            return -1;
        }
        p++;
        int use_default = !value || !*value;
        const char *src = use_default ? (def.data ? def.data : "") : value;
        int rc = strbuf_append(out, src, strlen(src));
        free(def.data);
        if (rc < 0)
            goto nomem;
    }
    *pp = p;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

int env_expand(const char *in, char **out, char *err, size_t errlen)
{
    struct strbuf b = {0};
    const char *p = in;
    if (strbuf_append(&b, "", 0) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (env_expand_into(&p, 0, 0, &b, err, errlen) < 0) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    return 0;
}

static char *env_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Parse one .env line in place; 1 with key/value set, 0 for blank or comment. */
static int env_parse_line(char *line, char **key, char **value, const char **why)
{
    char *s = env_trim(line);
    if (*s == '\0' || *s == '#')
        return 0;
    if (strncmp(s, "export", 6) == 0 && isspace((unsigned char)s[6]))
        s = env_trim(s + 6);
    char *eq = strchr(s, '=');
    if (!eq) {
        *why = "expected KEY=VALUE";
        return -1;
    }
    *eq = '\0';
    char *k = env_trim(s);
    if (!*k || isdigit((unsigned char)*k)) {
        *why = "bad variable name";
        return -1;
    }
    for (char *c = k; *c; c++) {
        if (!env_name_char(*c)) {
            *why = "bad variable name";
            return -1;
        }
    }
    char *v = env_trim(eq + 1);
    size_t n = strlen(v);
    if (n > 0 && (v[0] == '"' || v[0] == '\'')) {
        char q = v[0];
        char *end = strchr(v + 1, q);
        if (!end) {
            *why = "unterminated quote";
            return -1;
        }
        char *rest = env_trim(end + 1);
        if (*rest && *rest != '#') {
            *why = "text after the closing quote";
            return -1;
        }
        *end = '\0';
        v++;
    } else {
        /* Unquoted: a " #" starts a comment. */
        for (char *c = v; *c; c++) {
            if (*c == '#' && c > v && isspace((unsigned char)c[-1])) {
                *c = '\0';
                v = env_trim(v);
                break;
            }
        }
    }
    *key = k;
    *value = v;
    return 1;
}

int env_load_dotenv(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *key, *value;
        const char *why = NULL;
        int r = env_parse_line(line, &key, &value, &why);
        if (r < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
        if (r == 1 && setenv(key, value, 0) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, strerror(errno));
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}
