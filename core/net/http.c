/* The HTTP server: evhttp listeners, the route table plugins extend, CORS,
 * limits, JSON errors, /healthz and /metrics; /socket.io/ goes to sio.
 *
 * evhttp (libevent 2.1) answers a request whose headers or body pass its own
 * limits with an HTML error before any callback runs, and offers no hook to
 * change that.  So evhttp gets a ceiling twice the configured limits, and
 * requests between the limit and the ceiling get the JSON 413/431 here. */
#include "net/http.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
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

#include "bus.h"
#include "conf/conf.h"
#include "log.h"
#include "metrics.h"
#include "plugin/plugin.h"
#include "settings.h"
#include "sio/sio.h"

#define HTTP_MAX_SEGMENTS 32

struct http_route {
    sbr_plugin *owner;
    char method[8];
    char *pattern;
    char *segs[HTTP_MAX_SEGMENTS];
    size_t n_segs;
    size_t n_literal;
    sbr_http_handler fn;
    void *userdata;
};

struct sbr_http_request {
    struct evhttp_request *req; /* NULL once the connection is gone */
    struct evhttp_connection *evcon;
    const char *method;
    char *path;
    char *route; /* the pattern, for metrics */
    char *param_names[HTTP_MAX_SEGMENTS];
    char *param_values[HTTP_MAX_SEGMENTS];
    size_t n_params;
    char *body;
    size_t body_len;
};

static struct http_route *http_routes;
static size_t http_n_routes;
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
static void http_send(struct evhttp_request *req, int status, const char *content_type, const char *body,
                      size_t len, const char *route)
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

static void http_send_error(struct evhttp_request *req, int status, const char *error, const char *route)
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

/* --- routes --------------------------------------------------------------- */

static size_t http_split(char *path, char **segs, size_t max)
{
    size_t n = 0;
    char *p = path;
    if (*p == '/')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        if (n == max)
            return max + 1;
        segs[n++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
        if (!*p)
            break; /* one trailing slash is ignored */
    }
    return n;
}

static int http_param_name_ok(const char *seg)
{
    size_t n = strlen(seg);
    if (n < 3 || seg[0] != '{' || seg[n - 1] != '}')
        return 0;
    for (size_t i = 1; i < n - 1; i++)
        if (!isalnum((unsigned char)seg[i]) && seg[i] != '_')
            return 0;
    return 1;
}

static void http_route_clear(struct http_route *r)
{
    for (size_t i = 0; i < r->n_segs; i++)
        free(r->segs[i]);
    free(r->pattern);
}

int http_api_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *userdata)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};
    if (!method || !pattern || !fn || pattern[0] != '/' || strlen(pattern) > 1024)
        return SBR_ERR_INVALID;
    size_t m;
    for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
        if (strcmp(method, methods[m]) == 0)
            break;
    if (m == sizeof(methods) / sizeof(methods[0]))
        return SBR_ERR_INVALID;
    /* The core's own paths stay the core's. */
    if (strcmp(pattern, "/healthz") == 0 || strcmp(pattern, "/metrics") == 0 ||
        strncmp(pattern, "/socket.io", 10) == 0)
        return SBR_ERR_INVALID;
    struct http_route r = {.owner = self, .fn = fn, .userdata = userdata};
    snprintf(r.method, sizeof(r.method), "%s", method);
    char *copy = strdup(pattern);
    r.pattern = strdup(pattern);
    if (!copy || !r.pattern) {
        free(copy);
        free(r.pattern);
        return SBR_ERR_NOMEM;
    }
    char *segs[HTTP_MAX_SEGMENTS];
    size_t n = http_split(copy, segs, HTTP_MAX_SEGMENTS);
    int rc = SBR_OK;
    if (n > HTTP_MAX_SEGMENTS)
        rc = SBR_ERR_INVALID;
    for (size_t i = 0; rc == SBR_OK && i < n; i++) {
        if (!*segs[i] || (strchr(segs[i], '{') && !http_param_name_ok(segs[i])) ||
            (strchr(segs[i], '}') && !http_param_name_ok(segs[i]))) {
            rc = SBR_ERR_INVALID;
            break;
        }
        if (!(r.segs[r.n_segs++] = strdup(segs[i])))
            rc = SBR_ERR_NOMEM;
        else if (segs[i][0] != '{')
            r.n_literal++;
    }
    free(copy);
    for (size_t i = 0; rc == SBR_OK && i < http_n_routes; i++)
        if (strcmp(http_routes[i].method, r.method) == 0 && strcmp(http_routes[i].pattern, r.pattern) == 0)
            rc = SBR_ERR_STATE;
    struct http_route *grown = rc == SBR_OK ? realloc(http_routes, (http_n_routes + 1) * sizeof(*grown)) : NULL;
    if (rc == SBR_OK && !grown)
        rc = SBR_ERR_NOMEM;
    if (rc != SBR_OK) {
        http_route_clear(&r);
        return rc;
    }
    http_routes = grown;
    http_routes[http_n_routes++] = r;
    return SBR_OK;
}

void http_unregister_all(sbr_plugin *owner)
{
    size_t kept = 0;
    for (size_t i = 0; i < http_n_routes; i++) {
        if (http_routes[i].owner == owner)
            http_route_clear(&http_routes[i]);
        else
            http_routes[kept++] = http_routes[i];
    }
    http_n_routes = kept;
    if (kept == 0) {
        free(http_routes);
        http_routes = NULL;
    }
}

static int http_route_match(const struct http_route *r, char **segs, size_t n)
{
    if (r->n_segs != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (r->segs[i][0] == '{') {
            if (!*segs[i])
                return 0;
        } else if (strcmp(r->segs[i], segs[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

/* --- requests handed to plugins ----------------------------------------- */

static void http_request_free(sbr_http_request *w)
{
    for (size_t i = 0; i < w->n_params; i++) {
        free(w->param_names[i]);
        free(w->param_values[i]);
    }
    free(w->path);
    free(w->route);
    free(w->body);
    free(w);
}

/* The connection closed before the plugin answered (in libevent 2.1 this is
 * seen at shutdown or on a write error): the reply will be dropped. */
static void http_request_gone(struct evhttp_connection *evcon, void *arg)
{
    sbr_http_request *w = arg;
    w->req = NULL;
    w->evcon = NULL;
}

const char *http_api_method(sbr_http_request *req)
{
    return req ? req->method : NULL;
}

const char *http_api_path(sbr_http_request *req)
{
    return req ? req->path : NULL;
}

const char *http_api_param(sbr_http_request *req, const char *name)
{
    if (!req || !name)
        return NULL;
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}

const char *http_api_header(sbr_http_request *req, const char *name)
{
    if (!req || !req->req || !name)
        return NULL;
    return evhttp_find_header(evhttp_request_get_input_headers(req->req), name);
}

const char *http_api_body(sbr_http_request *req, size_t *len)
{
    if (len)
        *len = req ? req->body_len : 0;
    return req ? req->body : NULL;
}

int http_api_check_api_key(sbr_http_request *req)
{
    const char *key = settings_api_key();
    const char *auth = http_api_header(req, "Authorization");
    if (!*key || !auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    const char *given = auth + 7;
    while (*given == ' ')
        given++;
    size_t kl = strlen(key), gl = strlen(given);
    /* Constant time in the key's content: every byte is compared. */
    unsigned char diff = (unsigned char)(kl != gl);
    for (size_t i = 0; i < kl; i++)
        diff |= (unsigned char)(key[i] ^ (i < gl ? given[i] : 0));
    return diff == 0;
}

static int http_header_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("!#$%&'*+-.^_`|~", s[i]))
            return 0;
    return 1;
}

static void http_add_extra_headers(struct evhttp_request *req, const char *extra)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    const char *p = extra;
    while (p && *p) {
        const char *end = strstr(p, "\r\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (colon && http_header_name_ok(p, (size_t)(colon - p))) {
            char name[128], value[1024];
            size_t nl = (size_t)(colon - p), vl;
            const char *v = colon + 1;
            while (v < p + n && *v == ' ')
                v++;
            vl = (size_t)(p + n - v);
            if (nl < sizeof(name) && vl < sizeof(value)) {
                memcpy(name, p, nl);
                name[nl] = '\0';
                memcpy(value, v, vl);
                value[vl] = '\0';
                if (evhttp_add_header(out, name, value) < 0)
                    log_warn("core", "http: header '%s' refused", name);
            }
        } else if (n > 0) {
            log_warn("core", "http: malformed extra header line ignored");
        }
        p = end ? end + 2 : p + n;
    }
}

int http_api_reply(sbr_http_request *w, int status, const char *json_body, const char *extra_headers)
{
    if (!w)
        return SBR_ERR_INVALID;
    if (!w->req) {
        http_request_free(w);
        return SBR_ERR_GONE;
    }
    if (status < 200 || status > 599)
        status = 500;
    struct evhttp_request *req = w->req;
    evhttp_connection_set_closecb(w->evcon, NULL, NULL);
    if (extra_headers)
        http_add_extra_headers(req, extra_headers);
    if (!json_body && status >= 400)
        http_send_error(req, status, NULL, w->route);
    else
        http_send(req, status, json_body ? "application/json" : NULL, json_body, json_body ? strlen(json_body) : 0,
                  w->route);
    http_request_free(w);
    return SBR_OK;
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
static void http_call_route(struct evhttp_request *req, const struct http_route *r, const char *method,
                            const char *path, char **segs, size_t n)
{
    sbr_http_request *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path)) || !(w->route = strdup(r->pattern)))
        goto nomem;
    w->req = req;
    w->evcon = evhttp_request_get_connection(req);
    w->method = method;
    for (size_t i = 0; i < n; i++) {
        if (r->segs[i][0] != '{')
            continue;
        size_t len = 0;
        char *value = evhttp_uridecode(segs[i], 0, &len);
        if (!value || strlen(value) != len) {
            /* An encoded NUL cannot be a resource name. */
            free(value);
            http_request_free(w);
            http_send_error(req, 404, "not_found", r->pattern);
            return;
        }
        w->param_values[w->n_params] = value;
        w->param_names[w->n_params] = strndup(r->segs[i] + 1, strlen(r->segs[i]) - 2);
        if (!w->param_names[w->n_params++])
            goto nomem;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    w->body_len = evbuffer_get_length(in);
    w->body = malloc(w->body_len + 1);
    if (!w->body)
        goto nomem;
    evbuffer_copyout(in, w->body, w->body_len);
    w->body[w->body_len] = '\0';
    evhttp_connection_set_closecb(w->evcon, http_request_gone, w);
    r->fn(w, r->userdata);
    return;
nomem:
    if (w)
        http_request_free(w);
    http_send_error(req, 500, "internal_error", r->pattern);
}

/* --- built-in endpoints ----------------------------------------------------- */

static void http_healthz(struct evhttp_request *req)
{
    json_t *plugins = json_array();
    for (size_t i = 0; i < registry_count(); i++)
        json_array_append_new(plugins, json_string(registry_at(i)->name));
    json_t *o = json_pack("{s:s, s:s, s:I, s:o}", "status", "ok", "redis", bus_state_name(), "connections",
                          (json_int_t)sio_connection_count(), "plugins", plugins);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text)
        http_send(req, 200, "application/json", text, strlen(text), "/healthz");
    else
        http_send_error(req, 500, "internal_error", "/healthz");
    free(text);
    json_decref(o);
}

static void http_label_escape(char *out, size_t cap, const char *in)
{
    size_t o = 0;
    for (; in && *in && o + 3 < cap; in++) {
        if (*in == '"' || *in == '\\') {
            out[o++] = '\\';
            out[o++] = *in;
        } else if (*in == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

static void http_metrics(struct evhttp_request *req)
{
    char *text = metrics_render();
    struct evbuffer *buf = evbuffer_new();
    if (!text || !buf) {
        free(text);
        if (buf)
            evbuffer_free(buf);
        http_send_error(req, 500, "internal_error", "/metrics");
        return;
    }
    evbuffer_add(buf, text, strlen(text));
    free(text);
    evbuffer_add_printf(buf,
                        "# HELP superbot_connections Live Engine.IO sessions on this worker\n"
                        "# TYPE superbot_connections gauge\nsuperbot_connections %zu\n"
                        "# HELP superbot_bus_state State-and-bus backend: 0 disabled (in-process), 1 connected, 2 down\n"
                        "# TYPE superbot_bus_state gauge\nsuperbot_bus_state %d\n"
                        "# HELP superbot_plugins_loaded Plugins loaded\n"
                        "# TYPE superbot_plugins_loaded gauge\nsuperbot_plugins_loaded %zu\n"
                        "# HELP superbot_plugin_info One sample per loaded plugin\n"
                        "# TYPE superbot_plugin_info gauge\n",
                        sio_connection_count(), bus_state_get(), registry_count());
    for (size_t i = 0; i < registry_count(); i++) {
        struct sbr_plugin *p = registry_at(i);
        char name[256], version[256];
        http_label_escape(name, sizeof(name), p->name);
        http_label_escape(version, sizeof(version), p->desc->version);
        evbuffer_add_printf(buf, "superbot_plugin_info{name=\"%s\",version=\"%s\"} 1\n", name, version);
    }
    size_t len = evbuffer_get_length(buf);
    char *body = malloc(len + 1);
    if (body) {
        evbuffer_copyout(buf, body, len);
        http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, "/metrics");
        free(body);
    } else {
        http_send_error(req, 500, "internal_error", "/metrics");
    }
    evbuffer_free(buf);
}

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

static void http_dispatch(struct evhttp_request *req, void *arg)
{
    const struct core_settings *st = settings_get();
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
            http_healthz(req);
        } else {
            http_metrics(req);
        }
        return;
    }
    char *copy = strdup(path);
    if (!copy) {
        http_send_error(req, 500, "internal_error", "unmatched");
        return;
    }
    char *segs[HTTP_MAX_SEGMENTS];
    size_t n = http_split(copy, segs, HTTP_MAX_SEGMENTS);
    const struct http_route *best = NULL;
    char allow[64] = "";
    for (size_t i = 0; n <= HTTP_MAX_SEGMENTS && i < http_n_routes; i++) {
        const struct http_route *r = &http_routes[i];
        if (!http_route_match(r, segs, n))
            continue;
        if (strcmp(r->method, method) == 0) {
            if (!best || r->n_literal > best->n_literal)
                best = r;
        } else if (!strstr(allow, r->method) && strlen(allow) + strlen(r->method) + 3 < sizeof(allow)) {
            if (*allow)
                strcat(allow, ", ");
            strcat(allow, r->method);
        }
    }
    if (best) {
        http_call_route(req, best, method, path, segs, n);
    } else if (*allow) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        http_send_error(req, 405, "method_not_allowed", "unmatched");
    } else {
        http_send_error(req, 404, "not_found", "unmatched");
    }
    free(copy);
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

static int http_listen_one(const char *addr, int reuse_port)
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
    http_apply_limits();
    for (size_t i = 0; i < st->n_listen; i++)
        if (http_listen_one(st->listen[i], st->reuse_port) < 0)
            return -1;
    return 0;
}

void http_server_stop_accepting(void)
{
    for (size_t i = 0; i < http_n_bound; i++)
        evhttp_del_accept_socket(http_server, http_bound[i]);
    http_n_bound = 0;
}

void http_server_free(void)
{
    http_n_bound = 0;
    if (http_server)
        evhttp_free(http_server);
    http_server = NULL;
    while (http_n_routes > 0)
        http_route_clear(&http_routes[--http_n_routes]);
    free(http_routes);
    http_routes = NULL;
}
