/* Plain HTTP/1.1 calls to the server API (evhttp client): the setup calls of
 * the scenarios, made before the measured part starts. */
#ifndef LOADGEN_HTTP_CALL_H
#define LOADGEN_HTTP_CALL_H

struct event_base;
struct endpoint;

/* Send one request with `Authorization: Bearer <bearer>` and a JSON body and
 * run the loop until it is answered or timeout_ms passed.  Returns the
 * status, or -1 on a connection error or timeout. */
int http_call(struct event_base *base, const struct endpoint *ep, const char *method, const char *path,
              const char *bearer, const char *json_body, int timeout_ms);

#endif
