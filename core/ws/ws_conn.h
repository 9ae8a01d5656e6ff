/* A WebSocket connection taken over from evhttp after the 101 (private).
 *
 * libevent 2.1's evhttp has no WebSocket support, and
 * evhttp_connection_free() closes and shuts down the socket it accepted, so
 * the fd cannot simply be detached from it.  Instead the socket is moved to
 * a new fd number (dup), the old number is pointed at /dev/null (dup2), and
 * the evhttp connection and its request are freed from the loop right after
 * the upgrade: what evhttp does to the old number then hits /dev/null.  The
 * WebSocket runs on one event of its own, with input and output evbuffers
 * that exist only while they hold bytes, so an idle connection costs little
 * more than struct ws_conn.  Output queued during a loop turn is written once
 * at the end of that turn.
 *
 * Ownership: the owner holds the ws_conn until it calls ws_conn_close() or
 * receives on_close(); either way the ws_conn then finishes and frees itself,
 * and the owner must forget the pointer. */
#ifndef SBR_WS_CONN_H
#define SBR_WS_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <event2/http.h>

struct ws_conn;

struct ws_callbacks {
    /* A complete message (text is valid UTF-8).  data is ours; copy it. */
    void (*on_message)(void *userdata, int binary, const uint8_t *data, size_t len);
    /* The connection is over (peer close, protocol error, TCP error). */
    void (*on_close)(void *userdata, unsigned code, const char *why);
};

/* Answer 101 to a request ws_handshake_check() accepted and take the
 * connection over.  max_message bounds a (reassembled) message: past it the
 * peer gets close 1009.  NULL on failure (the request is then unanswered). */
struct ws_conn *ws_conn_takeover(struct evhttp_request *req, const char *key, size_t max_message,
                                 const struct ws_callbacks *cb, void *userdata);

/* Hand the connection's callbacks to another owner (an upgrade completing). */
void ws_conn_set_callbacks(struct ws_conn *ws, const struct ws_callbacks *cb, void *userdata);
/* Send a text or binary message (copied). */
int ws_conn_send(struct ws_conn *ws, int binary, const void *data, size_t len);
/* Send a complete frame (header included) by reference: release(arg) is
 * called once the bytes are written or dropped. */
int ws_conn_send_ref(struct ws_conn *ws, const void *frame, size_t len,
                     void (*release)(const void *data, size_t len, void *arg), void *arg);
/* Write what is queued to the socket now instead of at the end of the loop
 * turn, so the next packets go out in a later write. */
void ws_conn_flush(struct ws_conn *ws);
/* Bytes queued and not yet written to the socket. */
size_t ws_conn_pending(const struct ws_conn *ws);
/* Start the closing handshake; the owner gives the connection up. */
void ws_conn_close(struct ws_conn *ws, unsigned code, const char *reason);
/* Connections alive (including closing ones). */
size_t ws_conn_count(void);
/* Free every connection now (shutdown, after the loop stopped). */
void ws_conn_free_all(void);

#endif
