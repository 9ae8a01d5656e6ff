/* The route table plugins extend, and the plugin's view of one request:
 * {param} patterns, 404/405 in JSON, replies that may come later or never
 * reach a client that went away. */
#include "net/http.h"
#include "net/http_internal.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "log.h"

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
    /* Requests not answered yet, so none outlives the server at exit. */
    struct sbr_http_request *prev, *next;
};

static struct http_route *http_routes;
static size_t http_n_routes;
static struct sbr_http_request *http_pending;

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
    /* The core's own paths (Engine.IO's, /healthz, ...) stay the core's. */
    if (http_path_reserved(pattern))
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
    if (w->prev)
        w->prev->next = w->next;
    else if (http_pending == w)
        http_pending = w->next;
    if (w->next)
        w->next->prev = w->prev;
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

static void http_call_route(struct evhttp_request *req, const struct http_route *r, const char *method,
                            const char *path, char **segs, size_t n)
{
    sbr_http_request *w = calloc(1, sizeof(*w));
    if (!w || !(w->path = strdup(path)) || !(w->route = strdup(r->pattern)))
        goto nomem;
    w->req = req;
    w->evcon = evhttp_request_get_connection(req);
    w->method = method;
    w->next = http_pending;
    if (http_pending)
        http_pending->prev = w;
    http_pending = w;
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

void routes_dispatch(struct evhttp_request *req, const char *method, const char *path)
{
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

void routes_free(void)
{
    /* The server is gone: requests a plugin never answered are dropped. */
    while (http_pending)
        http_request_free(http_pending);
    while (http_n_routes > 0)
        http_route_clear(&http_routes[--http_n_routes]);
    free(http_routes);
    http_routes = NULL;
}
