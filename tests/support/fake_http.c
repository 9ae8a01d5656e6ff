/* The fake host's HTTP routes and requests (see fake_host.h). */
#define _GNU_SOURCE
#include "fake_host_private.h"

#include <string.h>
#include <strings.h>

#define FAKE_MAX_PARAMS 8

struct sbr_http_request {
    char *method;
    char *path;
    char *authorization;
    char *body;
    char *param_names[FAKE_MAX_PARAMS];
    char *param_values[FAKE_MAX_PARAMS];
    size_t n_params;
    int status; /* 0 until answered */
    char *reply_body;
    char *reply_headers;
};

struct fake_route { char *method; char *pattern; sbr_http_handler fn; void *ud; };

static FAKE_ARRAY(struct fake_route, routes);
static FAKE_ARRAY(struct sbr_http_request *, requests);

static int api_http_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *ud)
{
    if (!self->loading)
        return SBR_ERR_STATE;
    FAKE_PUSH(routes, ((struct fake_route){strdup(method), strdup(pattern), fn, ud}));
    return SBR_OK;
}
static const char *api_http_method(sbr_http_request *req) { return req->method; }
static const char *api_http_path(sbr_http_request *req) { return req->path; }
static const char *api_http_param(sbr_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->param_names[i], name) == 0)
            return req->param_values[i];
    return NULL;
}
static const char *api_http_header(sbr_http_request *req, const char *name)
{
    return strcasecmp(name, "authorization") == 0 ? req->authorization : NULL;
}
static const char *api_http_body(sbr_http_request *req, size_t *len)
{
    *len = req->body ? strlen(req->body) : 0;
    return req->body;
}
static int api_http_reply(sbr_http_request *req, int status, const char *json_body, const char *extra_headers)
{
    fake_check(req->status == 0, "%s %s answered twice", req->method, req->path);
    req->status = status;
    req->reply_body = fake_strdup(json_body);
    req->reply_headers = fake_strdup(extra_headers);
    return SBR_OK;
}
static int api_http_check_api_key(sbr_http_request *req)
{
    return req->authorization && strcmp(req->authorization, "Bearer " FAKE_API_KEY) == 0;
}

static void params_free(struct sbr_http_request *req)
{
    for (size_t k = 0; k < req->n_params; k++) {
        free(req->param_names[k]);
        free(req->param_values[k]);
    }
    req->n_params = 0;
}

/* Match "/a/{x}/b" against "/a/1/b", filling the request's params. */
static int route_match(const char *pattern, const char *path, struct sbr_http_request *req)
{
    params_free(req);
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++;
        path++;
        size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (sl == 0 || req->n_params == FAKE_MAX_PARAMS)
                return 0;
            req->param_names[req->n_params] = strndup(pattern + 1, pl - 2);
            req->param_values[req->n_params++] = strndup(path, sl);
        } else if (pl != sl || strncmp(pattern, path, pl) != 0) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == 0 && *path == 0;
}

sbr_http_request *fake_request(const char *method, const char *path, const char *authorization, const char *body)
{
    struct sbr_http_request *req = calloc(1, sizeof *req);
    req->method = strdup(method);
    req->path = strdup(path);
    req->authorization = fake_strdup(authorization);
    req->body = fake_strdup(body);
    FAKE_PUSH(requests, req);
    for (size_t i = 0; i < n_routes; i++)
        if (strcmp(routes[i].method, method) == 0 && route_match(routes[i].pattern, path, req)) {
            routes[i].fn(req, routes[i].ud);
            break;
        }
    return req;
}

int fake_reply_status(const sbr_http_request *req) { return req->status; }
const char *fake_reply_body(const sbr_http_request *req) { return req->reply_body; }
const char *fake_reply_headers(const sbr_http_request *req) { return req->reply_headers; }

int fake_http(const char *method, const char *path, const char *body, int with_key, const char **reply_body,
              const char **reply_headers)
{
    sbr_http_request *req = fake_request(method, path, with_key ? "Bearer " FAKE_API_KEY : NULL, body);
    fake_run();
    if (reply_body)
        *reply_body = req->reply_body;
    if (reply_headers)
        *reply_headers = req->reply_headers;
    return req->status;
}

void fake_http_api(sbr_api *api)
{
    api->http_route = api_http_route;
    api->http_method = api_http_method;
    api->http_path = api_http_path;
    api->http_param = api_http_param;
    api->http_header = api_http_header;
    api->http_body = api_http_body;
    api->http_reply = api_http_reply;
    api->http_check_api_key = api_http_check_api_key;
}

void fake_http_reset(void)
{
    for (size_t i = 0; i < n_routes; i++) {
        free(routes[i].method);
        free(routes[i].pattern);
    }
    n_routes = 0;
    for (size_t i = 0; i < n_requests; i++) {
        struct sbr_http_request *r = requests[i];
        params_free(r);
        free(r->method);
        free(r->path);
        free(r->authorization);
        free(r->body);
        free(r->reply_body);
        free(r->reply_headers);
        free(r);
    }
    n_requests = 0;
}
