#include "chat_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and a NUL. */
static int chat_json_reserve(struct chat_json *j, size_t n)
{
    if (j->failed)
        return -1;
    if (j->len + n + 1 <= j->cap)
        return 0;
    size_t cap = j->cap ? j->cap : 128;
    while (cap < j->len + n + 1)
        cap *= 2;
    char *grown = realloc(j->text, cap);
    if (!grown) {
        j->failed = 1;
        return -1;
    }
    j->text = grown;
    j->cap = cap;
    return 0;
}

static void chat_json_put(struct chat_json *j, const char *s, size_t n)
{
    if (chat_json_reserve(j, n) != 0)
        return;
    memcpy(j->text + j->len, s, n);
    j->len += n;
    j->text[j->len] = '\0';
}

/* ,"key": */
static void chat_json_key(struct chat_json *j, const char *key)
{
    if (j->fields++)
        chat_json_put(j, ",", 1);
    chat_json_put(j, "\"", 1);
    chat_json_put(j, key, strlen(key));
    chat_json_put(j, "\":", 2);
}

void chat_json_open(struct chat_json *j, const sbr_api *api)
{
    memset(j, 0, sizeof *j);
    j->api = api;
    chat_json_put(j, "{", 1);
}

void chat_json_string(struct chat_json *j, const char *key, const char *value)
{
    chat_json_key(j, key);
    if (!value) {
        chat_json_put(j, "null", 4);
        return;
    }
    int n = j->api->json_quote(value, NULL, 0);
    if (n < 0) {
        j->failed = 1;
        return;
    }
    if (chat_json_reserve(j, (size_t)n) != 0)
        return;
    j->api->json_quote(value, j->text + j->len, (size_t)n + 1);
    j->len += (size_t)n;
}

void chat_json_raw(struct chat_json *j, const char *key, const char *json)
{
    chat_json_key(j, key);
    chat_json_put(j, json, strlen(json));
}

void chat_json_int(struct chat_json *j, const char *key, int64_t value)
{
    /* Written backwards from the end of the buffer: no printf per field. */
    char digits[24];
    size_t at = sizeof digits;
    uint64_t v = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    do {
        digits[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (value < 0)
        digits[--at] = '-';
    chat_json_key(j, key);
    chat_json_put(j, digits + at, sizeof digits - at);
}

void chat_json_bool(struct chat_json *j, const char *key, int value)
{
    chat_json_key(j, key);
    chat_json_put(j, value ? "true" : "false", value ? 4 : 5);
}

void chat_json_real(struct chat_json *j, const char *key, double value)
{
    char text[40];
    int n = snprintf(text, sizeof text, "%.10g", value);
    if (n <= 0 || (size_t)n + 2 >= sizeof text) {
        j->failed = 1;
        return;
    }
    if (!strpbrk(text, ".eEni")) { /* a real stays a real: 5.0, not 5 */
        memcpy(text + n, ".0", 3);
        n += 2;
    }
    chat_json_key(j, key);
    chat_json_put(j, text, (size_t)n);
}

char *chat_json_close(struct chat_json *j)
{
    chat_json_put(j, "}", 1);
    if (j->failed) {
        free(j->text);
        j->text = NULL;
    }
    char *text = j->text;
    j->text = NULL;
    return text;
}
