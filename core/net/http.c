/* The HTTP server: evhttp listeners, limits, CORS, JSON replies, and the
 * dispatch of each request: /socket.io/ to sio, /healthz and /metrics to
 * health.c, the rest to the route table (routes.c).
 *
 * evhttp (libevent 2.1) answers a request whose headers or body pass its own
 * limits with an HTML error before any callback runs, and offers no hook to
 * change that.  So evhttp gets a ceiling twice the configured limits, and
 * requests between the limit and the ceiling get the JSON 413/431 here. */
#include "net/http.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/conf.h"
#include "health.h"
#include "log.h"
#include "metrics.h"
#include "net/listener.h"
#include "net/routes.h"
#include "settings.h"
#include "sio/sio.h"

static struct evhttp *http_server;
static struct evhttp_bound_socket *http_bound[SETTINGS_MAX_LISTEN];
static size_t http_n_bound;

/* --- replies ------------------------------------------------------------- */

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

/* Send a reply with CORS headers and count it under `route` (NULL: not counted). */
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

/* Build the plugin's view of the request and run its handler. */
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

/* --- header deadline --------------------------------------------------------- */

/* evhttp's timeout is an inactivity timeout, so a client trickling its
 * headers a byte at a time (slowloris) would hold its connection forever.
 * Each new connection gets an absolute deadline of header_timeout_ms for its
 * first request to reach http_dispatch; past it, the connection is freed.
 *
 * libevent 2.1 has no callback for a new connection, only one that makes
 * its bufferevent (evhttp_set_bevcb).  evhttp sets its callbacks on that
 * bufferevent, with the connection as their argument, before the loop runs
 * again; so a deferred callback picks the connection up from there and
 * watches it through its close callback.  Until then a reference on the
 * bufferevent keeps the record valid whoever frees the connection. */
struct http_deadline {
    struct bufferevent *bev;           /* until the connection is known */
    struct evhttp_connection *evcon;   /* then this, until it closes */
    struct event *timer;
    struct http_deadline *prev, *next;
};

static struct http_deadline *http_deadlines;

static void http_deadline_free(struct http_deadline *dl)
{
    if (dl->prev)
        dl->prev->next = dl->next;
    else
        http_deadlines = dl->next;
    if (dl->next)
        dl->next->prev = dl->prev;
    event_free(dl->timer);
    if (dl->bev)
        bufferevent_decref(dl->bev);
    else if (dl->evcon)
        evhttp_connection_set_closecb(dl->evcon, NULL, NULL);
    free(dl);
}

/* evhttp closes the connection first (the peer left, an error, shutdown). */
static void http_deadline_closed(struct evhttp_connection *evcon, void *arg)
{
    struct http_deadline *dl = arg;
    (void)evcon;
    dl->evcon = NULL;
    http_deadline_free(dl);
}

static void http_deadline_expired(evutil_socket_t fd, short what, void *arg)
{
    struct http_deadline *dl = arg;
    struct evhttp_connection *evcon = dl->evcon;
    (void)fd;
    (void)what;
    http_deadline_free(dl);
    log_debug("core", "request headers not complete within header_timeout_ms: closing");
    evhttp_connection_free(evcon);
}

/* The loop turn that accepted the connection: find it, start the clock. */
static void http_deadline_start(evutil_socket_t fd, short what, void *arg)
{
    struct http_deadline *dl = arg;
    bufferevent_data_cb readcb, writecb;
    bufferevent_event_cb eventcb;
    void *cbarg = NULL;
    (void)fd;
    (void)what;
    bufferevent_getcb(dl->bev, &readcb, &writecb, &eventcb, &cbarg);
    if (!eventcb || !cbarg) { /* evhttp already let it go */
        http_deadline_free(dl);
        return;
    }
    bufferevent_decref(dl->bev);
    dl->bev = NULL;
    dl->evcon = cbarg;
    evhttp_connection_set_closecb(dl->evcon, http_deadline_closed, dl);
    struct event_base *base = event_get_base(dl->timer);
    event_free(dl->timer);
    uint64_t ms = settings_get()->header_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    dl->timer = evtimer_new(base, http_deadline_expired, dl);
    if (!dl->timer || evtimer_add(dl->timer, &tv) != 0) {
        http_deadline_free(dl);
        return;
    }
}

static struct bufferevent *http_new_bufferevent(struct event_base *base, void *arg)
{
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev || !settings_get()->header_timeout_ms)
        return bev;
    struct http_deadline *dl = calloc(1, sizeof(*dl));
    struct event *start = dl ? event_new(base, -1, 0, http_deadline_start, dl) : NULL;
    if (!start) {
        free(dl);
        return bev;
    }
    bufferevent_incref(bev);
    dl->bev = bev;
    dl->timer = start;
    dl->next = http_deadlines;
    if (http_deadlines)
        http_deadlines->prev = dl;
    http_deadlines = dl;
    event_active(start, 0, 0);
    return bev;
}

/* The connection's first request arrived whole: its deadline is met. */
static void http_deadline_met(struct evhttp_request *req)
{
    if (!http_deadlines)
        return;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    for (struct http_deadline *dl = http_deadlines; evcon && dl; dl = dl->next) {
        if (dl->evcon == evcon || (dl->bev && dl->bev == bev)) {
            http_deadline_free(dl);
            return;
        }
    }
}

static void http_dispatch(struct evhttp_request *req, void *arg)
{
    const struct core_settings *st = settings_get();
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
    if (strncmp(path, "/socket.io/", 11) == 0 || strcmp(path, "/socket.io") == 0) {
        sio_http_handle(req);
        return;
    }
    const char *method = http_method_name(cmd);
    if (cmd == EVHTTP_REQ_HEAD)
        method = "GET";
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > st->max_body_size) {
        http_send_error(req, 413, "payload_too_large", "unmatched");
        return;
    }
    if (strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0) {
        if (strcmp(method, "GET") != 0) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
            http_send_error(req, 405, "method_not_allowed", path);
        } else if (path[1] == 'h') {
            health_reply(req);
        } else {
            health_metrics_reply(req);
        }
        return;
    }
    routes_dispatch(req, method, path);
}

/* --- the server --------------------------------------------------------------- */

static void http_apply_limits(void)
{
    const struct core_settings *st = settings_get();
    uint64_t body = st->max_body_size > st->max_payload ? st->max_body_size : st->max_payload;
    evhttp_set_max_headers_size(http_server, (ev_ssize_t)(st->max_header_size * 2));
    evhttp_set_max_body_size(http_server, (ev_ssize_t)(body * 2));
    struct timeval tv = {(time_t)(st->header_timeout_ms / 1000), (suseconds_t)((st->header_timeout_ms % 1000) * 1000)};
    evhttp_set_timeout_tv(http_server, &tv);
}

void http_server_reload(void)
{
    if (http_server)
        http_apply_limits();
}

static int http_listen_one(struct event_base *base, const char *addr, int reuse_port)
{
    char host[256], port_text[8];
    int port;
    if (settings_parse_listen(addr, host, sizeof(host), &port) < 0) {
        log_error("core", "listen '%s': not host:port", addr);
        return -1;
    }
    snprintf(port_text, sizeof(port_text), "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    int gai = getaddrinfo(*host ? host : NULL, port_text, &hints, &res);
    if (gai != 0) {
        log_error("core", "listen %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if ((reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
            err = errno;
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        log_error("core", "listen %s: %s", addr, strerror(err));
        return -1;
    }
    struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(http_server, fd);
    if (!bound) {
        close(fd);
        log_error("core", "listen %s: cannot accept", addr);
        return -1;
    }
    http_bound[http_n_bound++] = bound;
    listener_guard(base, bound, addr);
    log_info("core", "listening on %s%s", addr, reuse_port ? " (reuse_port)" : "");
    return 0;
}

int http_server_start(struct event_base *base)
{
    const struct core_settings *st = settings_get();
    http_server = evhttp_new(base);
    if (!http_server) {
        log_error("core", "cannot create the HTTP server");
        return -1;
    }
    /* Every method reaches http_dispatch, which answers 405 in JSON. */
    evhttp_set_allowed_methods(http_server, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(http_server, "application/json");
    evhttp_set_gencb(http_server, http_dispatch, NULL);
    evhttp_set_bevcb(http_server, http_new_bufferevent, NULL);
    http_apply_limits();
    for (size_t i = 0; i < st->n_listen; i++)
        if (http_listen_one(base, st->listen[i], st->reuse_port) < 0)
            return -1;
    return 0;
}

void http_server_stop_accepting(void)
{
    for (size_t i = 0; i < http_n_bound; i++) {
        listener_unguard(http_bound[i]);
        evhttp_del_accept_socket(http_server, http_bound[i]);
    }
    http_n_bound = 0;
}

void http_server_free(void)
{
    for (size_t i = 0; i < http_n_bound; i++)
        listener_unguard(http_bound[i]);
    http_n_bound = 0;
    if (http_server)
        evhttp_free(http_server);
    http_server = NULL;
    while (http_deadlines)
        http_deadline_free(http_deadlines);
    routes_free();
}
