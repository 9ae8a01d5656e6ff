/* RFC 6455 sections 5 to 7 over a socket taken from evhttp after the 101:
 * the takeover and the connection's services (see ws_conn.h); its input
 * is ws_input.c's, its output and life ws_output.c's. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include "ws/ws_conn.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_input.h"
#include "ws/ws_output.h"
#include "ws/ws_park.h"
#include "ws/ws_turn.h"
#include "metrics.h"
#include "util/tcp_nodelay.h"

/* Move the socket of evcon under a new fd number into ws, so that the
 * evhttp connection and request (with evhttp's copies of the request line,
 * URI and headers) can be freed now rather than kept for the WebSocket's
 * whole life.  -1, with evcon untouched, on failure. */
static int ws_steal_socket(struct evhttp_connection *evcon, struct ws_conn *ws)
{
    struct bufferevent *old = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = old ? bufferevent_getfd(old) : -1;
    struct event_base *base = old ? bufferevent_get_base(old) : NULL;
    if (fd < 0 || !base || ws_park_reserve(base) != 0 || ws_output_init(base) != 0)
        return -1;
    struct evbuffer *pending = bufferevent_get_input(old);
    if (evbuffer_get_length(pending) && !(ws->in = evbuffer_new()))
        return -1;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    tcp_nodelay(nfd);
    /* Take the old bufferevent's events out of epoll while its fd number
     * still names the socket: epoll keys a registration on the file, and
     * one left behind would outlive the dup2() below. */
    bufferevent_disable(old, EV_READ | EV_WRITE);
    int r = -1;
    if (nfd >= 0 && event_assign(&ws->ev, base, nfd, EV_READ | EV_PERSIST, ws_input_on_io, ws) == 0 &&
        event_add(&ws->ev, NULL) == 0) {
        r = ws_park_cover(fd);
        if (r < 0)
            event_del(&ws->ev);
    }
    if (r < 0) {
        if (nfd >= 0)
            close(nfd); /* fd still names the socket */
        if (ws->in)
            evbuffer_free(ws->in);
        ws->in = NULL;
        return -1;
    }
    /* Frames the client pipelined after its handshake, already read. */
    if (ws->in)
        evbuffer_add_buffer(ws->in, pending);
    ws_park_add(evcon);
    return 0;
}

struct ws_conn *ws_conn_takeover(struct evhttp_request *req, const char *key, size_t max_message,
                                 const struct ws_callbacks *cb, void *userdata)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct ws_conn *ws = evcon ? calloc(1, sizeof(*ws)) : NULL;
    if (!ws)
        return NULL;
    /* The 101 must not fail once the socket is ours. */
    ws->out = evbuffer_new();
    if (!ws->out || ws_steal_socket(evcon, ws) != 0) {
        if (ws->out)
            evbuffer_free(ws->out);
        free(ws);
        return NULL;
    }
    /* req and evcon are freed from the loop: not a word more to them. */
    ws->cb = cb;
    ws->userdata = userdata;
    ws->max_message = max_message < UINT32_MAX ? (uint32_t)max_message : UINT32_MAX;
    ws->owned = 1;
    ws_link(ws);
    char accept[WS_ACCEPT_LEN + 1];
    ws_accept_key(key, accept);
    evbuffer_add_printf(ws->out,
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    ws_mark_dirty(ws);
    /* Frames the client pipelined after its handshake may already sit in
     * the input buffer: read them from the loop, not from this call. */
    if (ws->in)
        event_active(&ws->ev, EV_READ, 0);
    return ws;
}

void ws_conn_set_callbacks(struct ws_conn *ws, const struct ws_callbacks *cb, void *userdata)
{
    ws->cb = cb;
    ws->userdata = userdata;
}

int ws_conn_send(struct ws_conn *ws, int binary, const void *data, size_t len)
{
    if (ws->finishing)
        return -1;
    return ws_write_frame(ws, binary ? WS_OP_BINARY : WS_OP_TEXT, data, len);
}

int ws_conn_send_ref(struct ws_conn *ws, const void *frame, size_t len,
                     void (*release)(const void *data, size_t len, void *arg), void *arg)
{
    if (ws->finishing)
        return -1;
    if (!ws->out && !ws->blocked) {
        /* Held for the end of the turn, written with the rest in one
         * writev(); the output buffer only when memory runs out here. */
        struct ws_turn_frame f = {frame, len, release, arg};
        if (ws_turn_hold(ws, &f) == 0)
            return 0;
    }
    struct evbuffer *out = ws_out(ws);
    if (!out || evbuffer_add_reference(out, frame, len, release, arg) != 0)
        return -1;
    ws_mark_dirty(ws);
    return 0;
}

void ws_conn_flush(struct ws_conn *ws)
{
    if (ws->finishing || ws->blocked || ws_take_pending(ws) != 0 || !ws->out || evbuffer_get_length(ws->out) == 0)
        return;
    /* Errors (EAGAIN included) are left to the end-of-turn write, which
     * still runs: the connection stays on the turn's list. */
    core_metrics.ws_writes++;
    evbuffer_write(ws->out, ws_fd(ws));
}

size_t ws_conn_pending(const struct ws_conn *ws)
{
    return (ws->out ? evbuffer_get_length(ws->out) : 0) + ws_turn_held_bytes(ws);
}

void ws_conn_close(struct ws_conn *ws, unsigned code, const char *reason)
{
    ws->owned = 0;
    if (!ws->finishing)
        ws_finish(ws, code, reason);
}

size_t ws_conn_count(void)
{
    return ws_output_count();
}

void ws_conn_free_all(void)
{
    ws_output_free_all();
    ws_park_free_all();
}
