/* evhttp servers: the public one on every `listen` address, and private
 * ones on one address each, all with the configured size limits.
 *
 * evhttp (libevent 2.1) answers a request whose headers or body pass its own
 * limits with an HTML error before any callback runs, and offers no hook to
 * change that.  So evhttp gets a ceiling twice the configured limits, and
 * the dispatcher answers requests between the limit and the ceiling with
 * the JSON 413/431. */
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net/http.h"
#include "net/http_internal.h"
#include "net/listener.h"
#include "settings.h"
#include "util/listen_addr.h"

#define HTTP_MAX_PRIVATE 4

struct http_private {
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
};

static struct evhttp *http_public;
static struct evhttp_bound_socket *http_bound[SETTINGS_MAX_LISTEN];
static size_t http_n_bound;
static struct http_private *http_privates[HTTP_MAX_PRIVATE];

static void http_apply_size_limits(struct evhttp *http)
{
    const struct core_settings *st = settings_get();
    uint64_t body = st->max_body_size > st->max_payload ? st->max_body_size : st->max_payload;
    evhttp_set_max_headers_size(http, (ev_ssize_t)(st->max_header_size * 2));
    evhttp_set_max_body_size(http, (ev_ssize_t)(body * 2));
}

static void http_apply_public_limits(void)
{
    const struct core_settings *st = settings_get();
    http_apply_size_limits(http_public);
    struct timeval tv = {(time_t)(st->header_timeout_ms / 1000), (suseconds_t)((st->header_timeout_ms % 1000) * 1000)};
    evhttp_set_timeout_tv(http_public, &tv);
}

void http_server_reload(void)
{
    if (http_public)
        http_apply_public_limits();
    for (size_t i = 0; i < HTTP_MAX_PRIVATE; i++)
        if (http_privates[i])
            http_apply_size_limits(http_privates[i]->http);
}

/* A listening socket on addr (see listen_addr.h), its bound address in
 * *bound when not NULL; -1 after logging why. */
static int http_bind(const char *addr, int reuse_port, int allow_any_port, struct sockaddr_storage *bound)
{
    char host[256], port_text[8];
    int port;
    if (listen_addr_parse(addr, host, sizeof(host), &port, allow_any_port) < 0) {
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
    int fd = -1, err = 0, one = 1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if ((reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 511) < 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    socklen_t bl = sizeof(*bound);
    if (fd < 0)
        log_error("core", "listen %s: %s", addr, strerror(err));
    else if (bound && getsockname(fd, (struct sockaddr *)bound, &bl) != 0)
        memset(bound, 0, sizeof(*bound));
    return fd;
}

/* Serve fd with http, guarded against running out of descriptors. */
static struct evhttp_bound_socket *http_accept(struct event_base *base, struct evhttp *http, int fd,
                                               const char *name)
{
    struct evhttp_bound_socket *bound = evhttp_accept_socket_with_handle(http, fd);
    if (!bound) {
        close(fd);
        log_error("core", "listen %s: cannot accept", name);
        return NULL;
    }
    listener_guard(base, bound, name);
    return bound;
}

int http_server_start(struct event_base *base)
{
    const struct core_settings *st = settings_get();
    http_public = evhttp_new(base);
    if (!http_public) {
        log_error("core", "cannot create the HTTP server");
        return -1;
    }
    /* Every method reaches http_dispatch, which answers 405 in JSON. */
    evhttp_set_allowed_methods(http_public, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                                EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(http_public, "application/json");
    evhttp_set_gencb(http_public, http_dispatch, NULL);
    evhttp_set_bevcb(http_public, http_deadline_bufferevent, NULL);
    http_apply_public_limits();
    for (size_t i = 0; i < st->n_listen; i++) {
        int fd = http_bind(st->listen[i], st->reuse_port, 0, NULL);
        struct evhttp_bound_socket *bound = fd < 0 ? NULL : http_accept(base, http_public, fd, st->listen[i]);
        if (!bound)
            return -1;
        http_bound[http_n_bound++] = bound;
        log_info("core", "listening on %s%s", st->listen[i], st->reuse_port ? " (reuse_port)" : "");
    }
    return 0;
}

void http_server_stop_accepting(void)
{
    for (size_t i = 0; i < http_n_bound; i++) {
        listener_unguard(http_bound[i]);
        evhttp_del_accept_socket(http_public, http_bound[i]);
    }
    http_n_bound = 0;
}

static int http_private_slot(void)
{
    for (int i = 0; i < HTTP_MAX_PRIVATE; i++)
        if (!http_privates[i])
            return i;
    return -1;
}

struct http_private *http_private_start(struct event_base *base, const char *addr, const char *name,
                                        unsigned methods, http_handler_fn fn, void *arg,
                                        struct sockaddr_storage *bound)
{
    int slot = http_private_slot();
    struct http_private *s = slot < 0 ? NULL : calloc(1, sizeof(*s));
    if (!s || !(s->http = evhttp_new(base))) {
        log_error("core", "%s: cannot create the HTTP server", name);
        free(s);
        return NULL;
    }
    int fd = http_bind(addr, 0, 1, bound);
    if (fd < 0 || !(s->bound = http_accept(base, s->http, fd, name))) {
        evhttp_free(s->http);
        free(s);
        return NULL;
    }
    http_apply_size_limits(s->http);
    evhttp_set_allowed_methods(s->http, (ev_uint16_t)methods);
    evhttp_set_gencb(s->http, fn, arg);
    http_privates[slot] = s;
    return s;
}

void http_private_free(struct http_private *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < HTTP_MAX_PRIVATE; i++)
        if (http_privates[i] == s)
            http_privates[i] = NULL;
    listener_unguard(s->bound);
    evhttp_free(s->http);
    free(s);
}

void http_server_free(void)
{
    for (size_t i = 0; i < http_n_bound; i++)
        listener_unguard(http_bound[i]);
    http_n_bound = 0;
    if (http_public)
        evhttp_free(http_public);
    http_public = NULL;
    http_deadline_free_all();
    http_paths_free();
    routes_free();
}
