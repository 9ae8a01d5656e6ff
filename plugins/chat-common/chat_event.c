/* Shared reading of client events and acks for the chat plugins. */
#include "chat_event.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *chat_event_payload(const sbr_event_message *event)
{
    if (!event->args_json || event->args_len == 0)
        return NULL;
    json_t *args = json_loadb(event->args_json, event->args_len, JSON_DECODE_ANY, NULL);
    if (!args)
        return NULL;
    json_t *first = json_is_array(args) ? json_array_get(args, 0) : NULL;
    if (!json_is_object(first)) {
        json_decref(args);
        return NULL;
    }
    json_incref(first);
    json_decref(args);
    return first;
}

int chat_id_valid(const char *id, enum chat_id_kind kind)
{
    size_t n = 0;
    int ascii = 1;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++, n++) {
        unsigned char c = *p;
        int ok = kind == CHAT_ID_CHANNEL
                     ? (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                           c == '.' || c == '-'
                     : c >= 0x20 && c != 0x7f;
        if (!ok || n >= CHAT_ID_MAX)
            return 0;
        ascii = ascii && c < 0x80;
    }
    if (n == 0)
        return 0;
    if (ascii)
        return 1;
    /* Ids are echoed in JSON: they must be valid UTF-8, which jansson checks. */
    json_t *probe = json_string(id);
    json_decref(probe);
    return probe != NULL;
}

int chat_id_read(json_t *object, const char *field, enum chat_id_kind kind, char *out)
{
    json_t *v = json_object_get(object, field);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v) || !chat_id_valid(s, kind))
            return -1;
        strcpy(out, s);
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(out, CHAT_ID_MAX + 1, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return 0;
    }
    return -1;
}

char *chat_json_dump(json_t *value)
{
    if (!value)
        return NULL;
    /* 10 significant digits print 4.2 as 4.2 and keep milliseconds up to 10^6 s. */
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
    json_decref(value);
    return text;
}

void chat_ack(const sbr_api *api, sbr_message *msg, json_t *reply)
{
    char *text = chat_json_dump(reply);
    api->message_reply(msg, text ? text : "{\"ok\":false,\"error\":\"internal\"}");
    free(text);
}

void chat_ack_text(const sbr_api *api, sbr_message *msg, const char *text)
{
    api->message_reply(msg, text ? text : "{\"ok\":false,\"error\":\"internal\"}");
}

void chat_ack_error(const sbr_api *api, sbr_message *msg, const char *code)
{
    char text[160];
    int n = snprintf(text, sizeof text, "{\"ok\":false,\"error\":\"%s\"}", code);
    chat_ack_text(api, msg, n > 0 && (size_t)n < sizeof text ? text : NULL);
}

char *chat_arg_json(const sbr_api *api, sbr_message *msg, const char *field)
{
    int n = api->msg_arg_json(msg, 0, field, NULL, 0);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text && api->msg_arg_json(msg, 0, field, text, (size_t)n + 1) != n) {
        free(text);
        text = NULL;
    }
    return text;
}

char *chat_arg_string(const sbr_api *api, sbr_message *msg, const char *field, size_t *len)
{
    int n = api->msg_arg_string(msg, 0, field, NULL, 0);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && (api->msg_arg_string(msg, 0, field, s, (size_t)n + 1) != n || strlen(s) != (size_t)n)) {
        free(s);
        s = NULL;
    }
    if (s && len)
        *len = (size_t)n;
    return s;
}

int chat_arg_id(const sbr_api *api, sbr_message *msg, const char *field, enum chat_id_kind kind, char *out)
{
    int n = api->msg_arg_string(msg, 0, field, out, CHAT_ID_MAX + 1);
    if (n >= 0)
        return n <= CHAT_ID_MAX && strlen(out) == (size_t)n && chat_id_valid(out, kind) ? 0 : -1;
    /* Not a string: a non-negative integer, written as the client did
     * (its JSON text is the decimal digits alone). */
    char digits[32];
    n = api->msg_arg_json(msg, 0, field, digits, sizeof digits);
    if (n <= 0 || (size_t)n >= sizeof digits || strspn(digits, "0123456789") != (size_t)n)
        return -1;
    memcpy(out, digits, (size_t)n + 1);
    return 0;
}

int chat_list_has(const char *const *list, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], id) == 0)
            return 1;
    return 0;
}

/* fmt with every "%s" replaced by the next string of ap, when "%s" is its
 * only conversion (room and key names: "channel:%s"), without printf's
 * machinery; NULL otherwise or out of memory (then *plain is 0 or 1). */
static char *chat_concat(const char *fmt, va_list ap, int *plain)
{
    va_list count;
    va_copy(count, ap);
    size_t len = 0;
    *plain = 1;
    for (const char *f = fmt; *f; f++) {
        if (f[0] == '%' && f[1] == 's') {
            const char *arg = va_arg(count, const char *);
            len += arg ? strlen(arg) : 6; /* "(null)", as glibc prints it */
            f++;
        } else if (*f == '%') {
            *plain = 0;
            break;
        } else {
            len++;
        }
    }
    va_end(count);
    char *s = *plain ? malloc(len + 1) : NULL;
    if (!s)
        return NULL;
    char *o = s;
    for (const char *f = fmt; *f; f++) {
        if (f[0] == '%' && f[1] == 's') {
            const char *arg = va_arg(ap, const char *);
            size_t n = strlen(arg ? arg : "(null)");
            memcpy(o, arg ? arg : "(null)", n);
            o += n;
            f++;
        } else {
            *o++ = *f;
        }
    }
    *o = '\0';
    return s;
}

char *chat_format(const char *fmt, ...)
{
    va_list ap;
    int plain;
    va_start(ap, fmt);
    char *s = chat_concat(fmt, ap, &plain);
    va_end(ap);
    if (plain)
        return s;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void chat_state_ignore(const sbr_state_reply *reply, void *userdata)
{
    (void)reply;
    (void)userdata;
}

int chat_services_present(sbr_plugin *self, const sbr_api *api)
{
    if (SBR_API_HAS(api, message_handler) && SBR_API_HAS(api, message_filter) && SBR_API_HAS(api, worker_id))
        return 1;
    api->set_error(self, "this core lacks message_handler, message_filter or worker_id: it is older than the plugin");
    return 0;
}

int chat_worker_copy(sbr_plugin *self, const sbr_api *api, char *out, size_t len)
{
    const char *id = api->worker_id();
    if (!id || !*id || strlen(id) >= len) {
        api->set_error(self, "no usable worker identity from the core");
        return -1;
    }
    memcpy(out, id, strlen(id) + 1);
    return 0;
}
