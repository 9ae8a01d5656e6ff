/* The public server's dispatcher: limits, the CORS preflight, then what the
 * layers above registered (http_paths.c: prefix handlers, built-in routes),
 * then the plugins' routes. */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

#include "metrics.h"
#include "net/http.h"
#include "net/http_internal.h"
#include "settings.h"

static const char *http_method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    }
    return "?";
}

/* Answer an OPTIONS request: CORS preflight. */
static void http_preflight(struct evhttp_request *req)
{
    struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char *origin = evhttp_find_header(in, "Origin");
    if (origin && !http_cors_apply(req)) {
        http_send_error(req, 403, "origin_not_allowed", "preflight");
        return;
    }
    evhttp_add_header(out, "Allow", "GET, POST, PUT, DELETE, PATCH, OPTIONS");
    evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH, OPTIONS");
    const char *asked = evhttp_find_header(in, "Access-Control-Request-Headers");
    int asked_ok = asked && strlen(asked) < 1024;
    for (const char *c = asked; asked_ok && *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("-_, ", *c))
            asked_ok = 0;
    evhttp_add_header(out, "Access-Control-Allow-Headers", asked_ok ? asked : "Authorization, Content-Type");
    evhttp_add_header(out, "Access-Control-Max-Age", "600");
    struct evbuffer *buf = evbuffer_new();
    evhttp_send_reply(req, 204, "No Content", buf);
    if (buf)
        evbuffer_free(buf);
    metrics_http_request("preflight", 204);
}

static size_t http_header_bytes(struct evhttp_request *req)
{
    size_t n = strlen(evhttp_request_get_uri(req)) + 16;
    for (struct evkeyval *h = evhttp_request_get_input_headers(req)->tqh_first; h; h = h->next.tqe_next)
        n += strlen(h->key) + strlen(h->value) + 4;
    return n;
}

/* A built-in route: GET or HEAD, or 405. */
static void http_builtin_call(const struct http_path *b, struct evhttp_request *req, const char *method)
{
    if (strcmp(method, "GET") != 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        http_send_error(req, 405, "method_not_allowed", b->path);
        return;
    }
    b->fn(req, b->arg);
}

void http_dispatch(struct evhttp_request *req, void *arg)
{
    const struct core_settings *st = settings_get();
    (void)arg;
    http_deadline_met(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (!path || !*path)
        path = "/";
    if (http_header_bytes(req) > st->max_header_size) {
        http_send_error(req, 431, "request_header_fields_too_large", "unmatched");
        return;
    }
    if (cmd == EVHTTP_REQ_OPTIONS) {
        http_preflight(req);
        return;
    }
    const struct http_path *prefix = http_prefix_find(path);
    if (prefix) {
        prefix->fn(req, prefix->arg);
        return;
    }
    const char *method = cmd == EVHTTP_REQ_HEAD ? "GET" : http_method_name(cmd);
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > st->max_body_size) {
        http_send_error(req, 413, "payload_too_large", "unmatched");
        return;
    }
    const struct http_path *builtin = http_builtin_find(path);
    if (builtin)
        http_builtin_call(builtin, req, method);
    else
        routes_dispatch(req, method, path);
}
