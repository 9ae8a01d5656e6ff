/* Server-API helpers shared by the chat plugins: the api-key gate, the JSON
 * body, and JSON answers.  Part of the chat-common library. */
#ifndef SBR_CHAT_HTTP_H
#define SBR_CHAT_HTTP_H

#include <jansson.h>
#include <superbot-realtime/plugin.h>

/* Answer `status` with `body` (reference stolen) and optional extra headers. */
void chat_http_reply(const sbr_api *api, sbr_http_request *req, int status, json_t *body,
                     const char *extra_headers);
/* Answer `status` with {"error": code}. */
void chat_http_error(const sbr_api *api, sbr_http_request *req, int status, const char *code);

/* Answer 400 {"error": "invalid_body", "detail": detail}. */
void chat_http_invalid(const sbr_api *api, sbr_http_request *req, const char *detail);

/* Check the api key and parse the body as a JSON object.  Returns the object
 * (a new reference), or NULL after answering 401 / 400 invalid_json /
 * 400 invalid_body itself. */
json_t *chat_http_begin(const sbr_api *api, sbr_http_request *req);

#endif
