/* Inside the HTTP layer (private to core/net and the built-in endpoints):
 * the route table, and replies that carry CORS headers and are counted on
 * /metrics. */
#ifndef SBR_CORE_NET_ROUTES_H
#define SBR_CORE_NET_ROUTES_H

#include <stddef.h>

#include "net/http.h"

/* Answer with the plugin route matching method and path, or 404/405. */
void routes_dispatch(struct evhttp_request *req, const char *method, const char *path);
/* Drop every route, and every request never answered (at exit, after the
 * server is freed). */
void routes_free(void);

/* Send status with a body, the CORS headers and no-store, counted under
 * `route` on /metrics (NULL: not counted). */
void http_send(struct evhttp_request *req, int status, const char *content_type, const char *body, size_t len,
               const char *route);
/* Send {"error": error} (NULL: the status's standard code). */
void http_send_error(struct evhttp_request *req, int status, const char *error, const char *route);

#endif
