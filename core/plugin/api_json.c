/* The JSON services of the host table: reading a value inside a client
 * event's arguments (api->msg_arg_*), quoting a string into JSON
 * (api->json_quote), so that a plugin needs no JSON library of its own,
 * and checking the bus provider's part of /healthz (api->bus_set_health).
 * The arguments are parsed once, when the event arrives; a lookup walks
 * the path and copies out only the value asked for. */
#include "plugin/plugin.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "sio/sio.h"
#include "util/json_text.h"

/* Longest path segment (an object key or an array index). */
#define API_JSON_KEY_MAX 256

/* One step down a dot-separated path: an object's key, or an array's index
 * when the segment is all digits.  NULL when there is no such value. */
static json_t *api_json_step(json_t *v, const char *seg, size_t n)
{
    char key[API_JSON_KEY_MAX];
    if (n == 0 || n >= sizeof(key))
        return NULL;
    memcpy(key, seg, n);
    key[n] = '\0';
    if (json_is_object(v))
        return json_object_get(v, key);
    if (!json_is_array(v) || strspn(key, "0123456789") != n || n > 9)
        return NULL;
    return json_array_get(v, (size_t)strtoul(key, NULL, 10));
}

json_t *api_json_path(json_t *args, unsigned index, const char *path)
{
    json_t *v = json_array_get(args, index);
    while (v && path && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        v = api_json_step(v, path, n);
        path = dot ? dot + 1 : path + n;
        if (dot && !*path)
            v = NULL; /* a trailing dot names nothing */
    }
    return v;
}

/* The value at `path` in argument `index`; *status is SBR_ERR_GONE for an
 * answered message, SBR_ERR_INVALID for a missing value. */
static json_t *api_json_find(sbr_message *msg, unsigned index, const char *path, int *status)
{
    json_t *args = sio_message_args(msg);
    *status = msg && !args ? SBR_ERR_GONE : SBR_ERR_INVALID;
    return args ? api_json_path(args, index, path) : NULL;
}

/* Copy len bytes of text (and a NUL) into buf when they fit, as snprintf
 * would, but never a truncated value: buf gets "" when it is too small. */
static int api_json_copy_out(const char *text, size_t n, char *buf, size_t len)
{
    if (n > INT_MAX)
        return SBR_ERR_LIMIT;
    if (buf && len > n) {
        memcpy(buf, text, n);
        buf[n] = '\0';
    } else if (buf && len > 0) {
        buf[0] = '\0';
    }
    return (int)n;
}

int api_msg_arg_string(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len)
{
    int status;
    json_t *v = api_json_find(msg, index, path, &status);
    if (buf && len > 0)
        buf[0] = '\0';
    if (!json_is_string(v))
        return v ? SBR_ERR_INVALID : status;
    return api_json_copy_out(json_string_value(v), json_string_length(v), buf, len);
}

int api_msg_arg_number(sbr_message *msg, unsigned index, const char *path, double *out)
{
    int status;
    json_t *v = api_json_find(msg, index, path, &status);
    if (!json_is_number(v) || !out)
        return v ? SBR_ERR_INVALID : status;
    *out = json_number_value(v);
    return SBR_OK;
}

int api_msg_arg_bool(sbr_message *msg, unsigned index, const char *path, int *out)
{
    int status;
    json_t *v = api_json_find(msg, index, path, &status);
    if (!json_is_boolean(v) || !out)
        return v ? SBR_ERR_INVALID : status;
    *out = json_is_true(v);
    return SBR_OK;
}

/* The compact JSON text of a string, an integer or a literal into buf as
 * api_json_copy_out does, without a dump (the text jansson would write);
 * SBR_ERR_INVALID for any other value. */
static int api_json_scalar_text(json_t *v, char *buf, size_t len)
{
    char small[32];
    const char *literal = json_is_true(v) ? "true" : json_is_false(v) ? "false" : json_is_null(v) ? "null" : NULL;
    if (literal)
        return api_json_copy_out(literal, strlen(literal), buf, len);
    if (json_is_integer(v)) {
        int n = snprintf(small, sizeof(small), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return api_json_copy_out(small, (size_t)n, buf, len);
    }
    if (!json_is_string(v))
        return SBR_ERR_INVALID;
    size_t n = json_string_length(v);
    size_t quoted = json_text_quoted_len(json_string_value(v), n); /* a NUL inside quotes as \u0000 */
    if (!quoted || quoted > INT_MAX)
        return quoted ? SBR_ERR_LIMIT : SBR_ERR_INVALID;
    if (buf && len > quoted) {
        json_text_quote(json_string_value(v), n, buf);
        buf[quoted] = '\0';
    }
    return (int)quoted;
}

int api_msg_arg_json(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len)
{
    int status;
    json_t *v = api_json_find(msg, index, path, &status);
    if (buf && len > 0)
        buf[0] = '\0';
    return v ? api_json_text(v, buf, len) : status;
}

int api_json_text(json_t *v, char *buf, size_t len)
{
    if (buf && len > 0)
        buf[0] = '\0';
    if (!json_is_object(v) && !json_is_array(v) && !json_is_real(v))
        return api_json_scalar_text(v, buf, len);
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return SBR_ERR_NOMEM;
    int rc = api_json_copy_out(text, strlen(text), buf, len);
    free(text);
    return rc;
}

int api_json_quote(const char *text, char *buf, size_t len)
{
    if (buf && len > 0)
        buf[0] = '\0';
    if (!text)
        return SBR_ERR_INVALID;
    /* UTF-8 checked; quotes, backslashes and control characters escaped,
     * as RFC 8259 asks (and as jansson would). */
    size_t n = strlen(text);
    size_t quoted = json_text_quoted_len(text, n);
    if (!quoted)
        return SBR_ERR_INVALID;
    if (quoted > INT_MAX)
        return SBR_ERR_LIMIT;
    if (buf && len > quoted) {
        json_text_quote(text, n, buf);
        buf[quoted] = '\0';
    }
    return (int)quoted;
}

int api_bus_set_health(sbr_plugin *self, const char *json_object)
{
    if (!json_object)
        return bus_set_health(self, NULL);
    json_t *o = json_loads(json_object, JSON_REJECT_DUPLICATES, NULL);
    int rc = SBR_ERR_INVALID;
    if (json_is_object(o)) {
        char *compact = json_dumps(o, JSON_COMPACT);
        rc = compact ? bus_set_health(self, compact) : SBR_ERR_NOMEM;
        free(compact);
    }
    json_decref(o);
    return rc;
}
