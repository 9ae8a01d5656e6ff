/* Inside the HTTP layer (private to core/net): what its files share. */
#ifndef SBR_NET_HTTP_INTERNAL_H
#define SBR_NET_HTTP_INTERNAL_H

#include <stddef.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "net/http.h"

/* --- http_deadline.c: the absolute deadline for a request's headers ------- */

/* evhttp_set_bevcb callback of the public server: a new connection's
 * bufferevent, with header_timeout_ms to deliver its first request. */
struct bufferevent *http_deadline_bufferevent(struct event_base *base, void *arg);
/* The connection of req delivered its first request: its deadline is met. */
void http_deadline_met(struct evhttp_request *req);
/* Forget every deadline (the server is being freed). */
void http_deadline_free_all(void);

/* --- http_paths.c: what the layers above registered ------------------------ */

struct http_path {
    char *path;           /* a prefix ends with '/'; a built-in route is exact */
    size_t len;
    http_handler_fn fn;
    void *arg;
};

/* The prefix handler serving path, or NULL. */
const struct http_path *http_prefix_find(const char *path);
/* The built-in route of exactly path, or NULL. */
const struct http_path *http_builtin_find(const char *path);
/* Forget the registered prefixes and built-in routes. */
void http_paths_free(void);

/* --- http_dispatch.c: the public server's dispatcher ------------------------ */

/* evhttp_set_gencb callback of the public server. */
void http_dispatch(struct evhttp_request *req, void *arg);

/* --- routes.c: the plugins' routes ---------------------------------------- */

/* Answer with the plugin route matching method and path, or 404/405. */
void routes_dispatch(struct evhttp_request *req, const char *method, const char *path);
/* Drop every route, and every request never answered (at exit, after the
 * server is freed). */
void routes_free(void);

#endif
