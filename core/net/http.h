/* The HTTP server (private): evhttp listeners, the route table plugins
 * extend, CORS, size limits and JSON errors. */
#ifndef SBR_CORE_HTTP_H
#define SBR_CORE_HTTP_H

#include <event2/http.h>
#include <superbot-realtime/plugin.h>

/* Bind every listen address of the settings; 0 or -1 after logging why. */
int http_server_start(struct event_base *base);
/* Stop accepting new connections (drain). */
void http_server_stop_accepting(void);
/* Settings were reloaded: apply the new limits and timeout. */
void http_server_reload(void);
void http_server_free(void);

/* Add the CORS response headers the settings allow for this request's Origin.
 * Returns 1 if the origin is allowed (or no Origin was sent), 0 otherwise. */
int http_cors_apply(struct evhttp_request *req);
/* Send {"error": error} with status (and the CORS headers). */
void http_reply_error(struct evhttp_request *req, int status, const char *error);
/* Send a JSON body with status (and the CORS headers). */
void http_reply_json(struct evhttp_request *req, int status, const char *json);

/* Host-table services (struct sbr_api). */
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
