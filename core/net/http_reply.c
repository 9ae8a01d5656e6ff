/* Replies of the HTTP layer: status names and default error codes, the
 * CORS headers the settings allow, and replies counted per route on
 * /metrics. */
#include "net/http.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "metrics.h"
#include "net/http_internal.h"
#include "settings.h"

static const struct {
    int status;
    const char *reason;
    const char *error;
} http_statuses[] = {
    {200, "OK", NULL},
    {201, "Created", NULL},
    {202, "Accepted", NULL},
    {204, "No Content", NULL},
    {400, "Bad Request", "bad_request"},
    {401, "Unauthorized", "authentication_required"},
    {403, "Forbidden", "forbidden"},
    {404, "Not Found", "not_found"},
    {405, "Method Not Allowed", "method_not_allowed"},
    {408, "Request Timeout", "request_timeout"},
    {409, "Conflict", "conflict"},
    {413, "Payload Too Large", "payload_too_large"},
    {415, "Unsupported Media Type", "unsupported_media_type"},
    {422, "Unprocessable Entity", "unprocessable_entity"},
    {429, "Too Many Requests", "too_many_requests"},
    {431, "Request Header Fields Too Large", "request_header_fields_too_large"},
    {500, "Internal Server Error", "internal_error"},
    {502, "Bad Gateway", "bad_gateway"},
    {503, "Service Unavailable", "unavailable"},
    {504, "Gateway Timeout", "gateway_timeout"},
};

static size_t http_status_index(int status)
{
    for (size_t i = 0; i < sizeof(http_statuses) / sizeof(http_statuses[0]); i++)
        if (http_statuses[i].status == status)
            return i;
    return (size_t)-1;
}

static const char *http_reason(int status)
{
    size_t i = http_status_index(status);
    if (i != (size_t)-1)
        return http_statuses[i].reason;
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

static const char *http_default_error(int status)
{
    size_t i = http_status_index(status);
    if (i != (size_t)-1 && http_statuses[i].error)
        return http_statuses[i].error;
    return status < 500 ? "bad_request" : "internal_error";
}

int http_cors_apply(struct evhttp_request *req)
{
    const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
    const char *allowed = settings_get()->cors_origins;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (!origin)
        return 1;
    if (!allowed || !*allowed)
        return 0;
    if (strcmp(allowed, "*") == 0) {
        evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
        return 1;
    }
    size_t olen = strlen(origin);
    for (const char *p = allowed; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',' && *end != ' ')
            end++;
        if ((size_t)(end - p) == olen && olen > 0 && strncasecmp(p, origin, olen) == 0) {
            evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
            evhttp_add_header(out, "Access-Control-Allow-Credentials", "true");
            evhttp_add_header(out, "Vary", "Origin");
            return 1;
        }
        p = end;
    }
    return 0;
}


void http_send(struct evhttp_request *req, int status, const char *content_type, const char *body, size_t len,
               const char *route)
{
    http_cors_apply(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    /* A plugin's extra headers may already have set these. */
    if (content_type && !evhttp_find_header(out, "Content-Type"))
        evhttp_add_header(out, "Content-Type", content_type);
    if (!evhttp_find_header(out, "Cache-Control"))
        evhttp_add_header(out, "Cache-Control", "no-store");
    struct evbuffer *buf = evbuffer_new();
    if (buf && body && len)
        evbuffer_add(buf, body, len);
    evhttp_send_reply(req, status, http_reason(status), buf);
    if (buf)
        evbuffer_free(buf);
    if (route)
        metrics_http_request(route, status);
}

void http_send_error(struct evhttp_request *req, int status, const char *error, const char *route)
{
    json_t *o = json_pack("{s:s}", "error", error ? error : http_default_error(status));
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    const char *body = text ? text : "{\"error\":\"internal_error\"}";
    http_send(req, status, "application/json", body, strlen(body), route);
    free(text);
    json_decref(o);
}

void http_reply_error(struct evhttp_request *req, int status, const char *error)
{
    http_send_error(req, status, error, NULL);
}

void http_reply_json(struct evhttp_request *req, int status, const char *json)
{
    http_send(req, status, "application/json", json, json ? strlen(json) : 0, NULL);
}

