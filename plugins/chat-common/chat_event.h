/* What the chat plugins (channels, slowmode, typing, presence) share about
 * client events: the services they need, reading the payload object,
 * identifiers, acks and membership checks.  Part of the chat-common
 * library linked into each of those plugins. */
#ifndef SBR_CHAT_EVENT_H
#define SBR_CHAT_EVENT_H

#include <stddef.h>
#include <jansson.h>
#include <superbot-realtime/plugin.h>

/* Longest channel, server or user id accepted from a client or the backend;
 * keeps every room name ("channel:<id>") and state key well within limits. */
#define CHAT_ID_MAX 128

/* 1 if the core offers the appended services the chat plugins use
 * (message_handler, message_filter, worker_id: every core they ship with
 * does); otherwise 0 after api->set_error, for on_load to fail with. */
int chat_services_present(sbr_plugin *self, const sbr_api *api);

/* Room for api->worker_id() (11 characters today) in a plugin's record. */
#define CHAT_WORKER_MAX 32

/* Copy api->worker_id() into out[len]; 0, or -1 after api->set_error. */
int chat_worker_copy(sbr_plugin *self, const sbr_api *api, char *out, size_t len);

/* The first argument of a client event when it is a JSON object (a new
 * reference), or NULL for anything else. */
json_t *chat_event_payload(const sbr_event_message *event);

/* Channel ids go into composite state keys ("slowmode:<channel>:<user>"),
 * so they are 1..CHAT_ID_MAX characters of [A-Za-z0-9_.-].  Server and user
 * ids are taken as tokens carry them: 1..CHAT_ID_MAX bytes of UTF-8 without
 * control characters. */
enum chat_id_kind { CHAT_ID_CHANNEL, CHAT_ID_SERVER_OR_USER };

/* Read an id field: a string valid for `kind`, or a non-negative integer
 * (written in decimal).  `out` holds CHAT_ID_MAX + 1 bytes.  Returns 0, or
 * -1 if absent or invalid. */
int chat_id_read(json_t *object, const char *field, enum chat_id_kind kind, char *out);
/* 1 if `id` is a valid id string of that kind. */
int chat_id_valid(const char *id, enum chat_id_kind kind);

/* The fields of a client event's first argument (an object), read from
 * the host's copy of the arguments, parsed once per message
 * (api->msg_arg_*): a plugin on the path of every message parses nothing.
 * A first argument that is not an object has no fields. */

/* An id field, as chat_id_read reads one: 0, or -1 if absent or invalid. */
int chat_arg_id(const sbr_api *api, sbr_message *msg, const char *field, enum chat_id_kind kind, char *out);
/* A string field (malloc'd, NUL-terminated, its byte length in *len), or
 * NULL when absent, not a string, or holding a NUL. */
char *chat_arg_string(const sbr_api *api, sbr_message *msg, const char *field, size_t *len);
/* Any field as compact JSON text (malloc'd), or NULL when absent. */
char *chat_arg_json(const sbr_api *api, sbr_message *msg, const char *field);

/* Answer the ack with {"ok": false, "error": code}; code is one of the
 * plugins' own error codes (plain ASCII). */
void chat_ack_error(const sbr_api *api, sbr_message *msg, const char *code);
/* Answer the ack with JSON text (the caller keeps it); NULL answers
 * {"ok": false, "error": "internal"}. */
void chat_ack_text(const sbr_api *api, sbr_message *msg, const char *text);
/* Answer the ack with `reply` (reference stolen); an allocation failure
 * answers {"ok": false, "error": "internal"}. */
void chat_ack(const sbr_api *api, sbr_message *msg, json_t *reply);

/* Compact JSON text of `value` (reference stolen), reals with millisecond
 * friendly precision; NULL on allocation failure.  Free with free(). */
char *chat_json_dump(json_t *value);

/* 1 if id is one of list[0..n). */
int chat_list_has(const char *const *list, size_t n, const char *id);

/* A freshly allocated printf-formatted string, or NULL. */
char *chat_format(const char *fmt, ...) SBR_PRINTF(1, 2);

/* A state callback for calls whose answer nobody waits for. */
void chat_state_ignore(const sbr_state_reply *reply, void *userdata);

#endif
