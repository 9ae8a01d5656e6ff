/* A plain-socket HTTP client for the core's unit tests: it talks to a
 * server that runs on the test's own event loop, so every wait runs that
 * loop.  Bytes in, bytes out: the tests see exactly what a peer would. */
#ifndef SBR_TEST_LOOPBACK_H
#define SBR_TEST_LOOPBACK_H

#include <stddef.h>
#include <event2/event.h>

/* A loopback port free a moment ago (bound to port 0, then let go), or -1. */
int loopback_free_port(void);
/* A blocking TCP connection to 127.0.0.1:port, or -1. */
int loopback_connect(int port);
/* Send all of text; 0 or -1. */
int loopback_send(int fd, const char *text, size_t len);
/* Read what fd receives into out (NUL-terminated, up to cap - 1 bytes),
 * running base meanwhile, until a whole HTTP response is there (headers and
 * Content-Length bytes), the peer closes, or timeout_ms.  Returns the
 * length read; *closed says whether the peer closed. */
size_t loopback_read(struct event_base *base, int fd, char *out, size_t cap, int timeout_ms, int *closed);
/* One request on a new connection, the answer in out; closes the socket. */
size_t loopback_exchange(struct event_base *base, int port, const char *request, char *out, size_t cap);
/* The status code of a response text, or 0. */
int loopback_status(const char *response);
/* The value of a response header (case-insensitive name) copied into out, or NULL. */
const char *loopback_header(const char *response, const char *name, char *out, size_t cap);
/* The body of a response text (after the blank line), or "". */
const char *loopback_body(const char *response);
/* Run base's ready work for about ms. */
void loopback_pump(struct event_base *base, int ms);

#endif
