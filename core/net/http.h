/* HTTP (layer 2, private): evhttp servers, the public server's dispatch,
 * CORS, limits and JSON replies.
 *
 * Offers: the public server on the `listen` addresses, whose dispatch runs
 * what the layers above registered (prefix handlers, built-in routes) and
 * then the plugins' route table; private servers (one address, the same
 * size limits, a dispatcher of their own); replies with CORS headers; the
 * host-table services of HTTP routes.
 * Calls: the base layer only.  It knows nothing of Engine.IO, Socket.IO,
 * health or plugins beyond the opaque owner of a route. */
#ifndef SBR_CORE_HTTP_H
#define SBR_CORE_HTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <event2/http.h>
#include <superbot-realtime/plugin.h>

/* A request handed to a registered handler, which must answer it (now or
 * later, with evhttp or the replies below). */
typedef void (*http_handler_fn)(struct evhttp_request *req, void *arg);

/* --- registration (before http_server_start) --------------------------- */

/* Serve every path under `prefix` ("/socket.io/": "/socket.io/..." and
 * "/socket.io") with fn, before the body-size limit and every route: the
 * handler enforces its own limits.  The prefix starts and ends with '/'.
 * 0, or -1 when it is malformed, taken, or covers a built-in route. */
int http_prefix_handler(const char *prefix, http_handler_fn fn, void *arg);
/* Serve GET and HEAD of exactly `path` with fn (405 for other methods).
 * 0, or -1 when malformed, taken, or under a prefix. */
int http_builtin_route(const char *path, http_handler_fn fn, void *arg);
/* 1 if a plugin route with this pattern would be shadowed by a prefix
 * handler or a built-in route. */
int http_path_reserved(const char *pattern);

/* --- the public server -------------------------------------------------- */

/* Bind every listen address of the settings; 0 or -1 after logging why. */
int http_server_start(struct event_base *base);
/* Stop accepting new connections (drain). */
void http_server_stop_accepting(void);
/* Settings were reloaded: apply the new limits and timeout to every server. */
void http_server_reload(void);
/* Free the servers, registrations and routes (after the loop stopped). */
void http_server_free(void);

/* --- private servers ------------------------------------------------------ */

struct http_private;

/* A server on one address (port 0: any free port), with the public
 * server's size limits, accepting `methods` (EVHTTP_REQ_* bits) and handing
 * every request to fn.  `name` is for logs.  The bound address is written
 * to *bound.  NULL after logging why. */
struct http_private *http_private_start(struct event_base *base, const char *addr, const char *name,
                                        unsigned methods, http_handler_fn fn, void *arg,
                                        struct sockaddr_storage *bound);
void http_private_free(struct http_private *server);

/* --- replies --------------------------------------------------------------- */

/* Add the CORS response headers the settings allow for this request's Origin.
 * Returns 1 if the origin is allowed (or no Origin was sent), 0 otherwise. */
int http_cors_apply(struct evhttp_request *req);
/* Send status with a body, the CORS headers and no-store, counted under
 * `route` on /metrics (NULL: not counted). */
void http_send(struct evhttp_request *req, int status, const char *content_type, const char *body, size_t len,
               const char *route);
/* Send {"error": error} (NULL: the status's standard code), counted under route. */
void http_send_error(struct evhttp_request *req, int status, const char *error, const char *route);
/* Send {"error": error} with status (and the CORS headers), not counted. */
void http_reply_error(struct evhttp_request *req, int status, const char *error);
/* Send a JSON body with status (and the CORS headers), not counted. */
void http_reply_json(struct evhttp_request *req, int status, const char *json);

/* --- host-table services (routes.c; see struct sbr_api) ------------------ */

int http_api_route(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *userdata);
const char *http_api_method(sbr_http_request *req);
const char *http_api_path(sbr_http_request *req);
const char *http_api_param(sbr_http_request *req, const char *name);
const char *http_api_header(sbr_http_request *req, const char *name);
const char *http_api_body(sbr_http_request *req, size_t *len);
int http_api_reply(sbr_http_request *req, int status, const char *json_body, const char *extra_headers);
int http_api_check_api_key(sbr_http_request *req);
void http_unregister_all(sbr_plugin *owner);

#endif
