/* Engine.IO (layer 4, private): v4 sessions over HTTP long-polling and
 * WebSocket, the upgrade between them, heartbeats and close, and serving
 * any session from any worker.
 * Offers: the server under its path, and each session as an ordered pipe
 * of messages to the layer above, which registers a struct eio_handler.
 * Calls: net (its prefix handler, replies, a private server), ws, the bus's
 * state calls (the worker registry) and the base layer. */
#ifndef SBR_EIO_SESSION_H
#define SBR_EIO_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/http.h>
#include "eio/eio_buf.h"

struct eio_session;

struct eio_handler {
    /* A session opened; return the owner's state for it, or NULL to refuse. */
    void *(*on_open)(struct eio_session *s);
    /* A message packet (text without the "4", or binary bytes). */
    void (*on_message)(void *owner, int binary, const uint8_t *data, size_t len);
    /* The session is over: called once, then the session is freed by the
     * loop.  The owner must not use the session after this returns. */
    void (*on_close)(void *owner, const char *reason);
};

/* Serve Engine.IO under `path` ("/socket.io/"): register it with the
 * public HTTP server, start the worker address and relaying, and hand
 * sessions to handler.  0, or -1 after logging why. */
int eio_server_init(struct event_base *base, const char *path, const struct eio_handler *handler);
/* Close every session now: on_close follows for each (a polling session
 * with no GET in flight loses its queue). */
void eio_server_close_all(const char *reason);
/* Drain, first step: until eio_server_drain, packets queued for a polling
 * session wait in its queue even when a GET is pending, so that the layer
 * above's last packets and the close packet answer it at once. */
void eio_server_hold_polls(void);
/* Drain: close every session as eio_server_close_all does, except that a
 * polling session with no GET in flight keeps its queue, the close packet
 * last, for the client's next GET, and is closed after polling_grace_ms if
 * none comes. */
void eio_server_drain(const char *reason, uint64_t polling_grace_ms);
/* Free every session (after the loop stopped), without callbacks. */
void eio_server_free(void);

/* A request under the Engine.IO path (an http_handler_fn).  With `relay`
 * non-NULL a request for another worker's session is relayed there (the
 * public server); with NULL it is answered "Session ID unknown" (the worker
 * address, which never relays again). */
void eio_http_handle(struct evhttp_request *req, void *relay);

/* Queue a complete Engine.IO packet ("4..." text, or a binary message) on
 * the session; takes a new reference to b. */
int eio_session_send(struct eio_session *s, struct eio_buf *b);
/* Push what is queued on a WebSocket to the socket now: packets queued
 * after this go out in a separate write (clients that read one message per
 * read need the CONNECT answer apart from the events that follow it). */
void eio_session_flush(struct eio_session *s);
/* Bytes queued to the session and not yet written. */
size_t eio_session_pending(const struct eio_session *s);
/* Close from the server side (flushes what is queued first when it can);
 * on_close follows with `reason`. */
void eio_session_close(struct eio_session *s, const char *reason);

const char *eio_session_sid(const struct eio_session *s);
/* The handshake request's query parameter (decoded) or header
 * (case-insensitive), and the peer address; valid while the session lives. */
const char *eio_session_query(const struct eio_session *s, const char *name);
const char *eio_session_header(const struct eio_session *s, const char *name);
const char *eio_session_remote_addr(const struct eio_session *s);
/* "polling" or "websocket": the transport in use now. */
const char *eio_session_transport(const struct eio_session *s);

/* Sessions alive. */
size_t eio_session_count(void);

#endif
