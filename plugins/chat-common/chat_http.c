/* Server-API helpers shared by the chat plugins. */
#include "chat_http.h"
#include "chat_event.h"

#include <stdlib.h>

void chat_http_reply(const sbr_api *api, sbr_http_request *req, int status, json_t *body,
                     const char *extra_headers)
{
    char *text = chat_json_dump(body);
    if (!text) {
        api->http_reply(req, 500, "{\"error\":\"internal\"}", NULL);
        return;
    }
    api->http_reply(req, status, text, extra_headers);
    free(text);
}

void chat_http_error(const sbr_api *api, sbr_http_request *req, int status, const char *code)
{
    chat_http_reply(api, req, status, json_pack("{s:s}", "error", code), NULL);
}

void chat_http_invalid(const sbr_api *api, sbr_http_request *req, const char *detail)
{
    chat_http_reply(api, req, 400, json_pack("{s:s, s:s}", "error", "invalid_body", "detail", detail), NULL);
}

json_t *chat_http_begin(const sbr_api *api, sbr_http_request *req)
{
    if (!api->http_check_api_key(req)) {
        chat_http_error(api, req, 401, "unauthorized");
        return NULL;
    }
    size_t len = 0;
    const char *body = api->http_body(req, &len);
    json_t *doc = body && len ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
    if (!doc) {
        chat_http_error(api, req, 400, "invalid_json");
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        chat_http_error(api, req, 400, "invalid_body");
        return NULL;
    }
    return doc;
}
