/* JSON objects written straight as text, for the events and answers the
 * chat plugins send on every message: no tree and no library, one buffer
 * grown as needed, strings quoted by the host (api->json_quote).  Keys are
 * the callers' own constants, written as given. */
#ifndef SBR_CHAT_JSON_H
#define SBR_CHAT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

struct chat_json {
    const sbr_api *api;
    char *text;
    size_t len, cap;
    int fields;  /* written so far: the next one needs a comma */
    int failed;  /* out of memory, or a string that is not UTF-8 */
};

/* Start an object ("{"). */
void chat_json_open(struct chat_json *j, const sbr_api *api);
/* "key":"value", quoted; a NULL value writes null. */
void chat_json_string(struct chat_json *j, const char *key, const char *value);
/* "key":<json>, json being one JSON value's text already. */
void chat_json_raw(struct chat_json *j, const char *key, const char *json);
void chat_json_int(struct chat_json *j, const char *key, int64_t value);
void chat_json_bool(struct chat_json *j, const char *key, int value);
/* A real as jansson writes it with 10 significant digits (4.2, 5.0). */
void chat_json_real(struct chat_json *j, const char *key, double value);
/* End the object: its text (free with free()), or NULL if anything failed. */
char *chat_json_close(struct chat_json *j);

#endif
