/* RFC 6455 sections 5 to 7 over a bufferevent taken from evhttp. */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <event2/keyvalq_struct.h>
#include "ws/ws_conn.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_utf8.h"

struct ws_conn {
    struct evhttp_connection *evcon;
    struct bufferevent *bev;
    const struct ws_callbacks *cb;
    void *userdata;
    size_t max_message;
    struct evbuffer *fragments; /* a fragmented message being reassembled, or NULL */
    int fragments_binary;
    struct ws_utf8 utf8;
    unsigned owned : 1;      /* the owner still holds us: callbacks allowed */
    unsigned close_sent : 1;
    unsigned finishing : 1;  /* free once the output is written */
    unsigned in_read : 1;
    unsigned free_pending : 1;
    unsigned lingering : 1;  /* our side is shut down; waiting for the peer's */
    size_t lingered;         /* bytes read and dropped while closing */
    struct ws_conn *prev, *next;
};

/* Past this much unsent output, a closing connection is dropped at once. */
#define WS_CLOSE_FLUSH_MAX (64 * 1024)
/* Closing, we keep reading (and dropping) what the peer still sends, so
 * that closing the socket with unread input does not send a RST that makes
 * the peer discard our last packets and close frame; at most this much, for
 * at most WS_LINGER_SECONDS of silence. */
#define WS_LINGER_MAX (1024 * 1024)
#define WS_LINGER_SECONDS 2

static struct ws_conn *ws_all;
static size_t ws_live;

static void ws_link(struct ws_conn *ws)
{
    ws->next = ws_all;
    if (ws_all)
        ws_all->prev = ws;
    ws_all = ws;
    ws_live++;
}

static void ws_unlink(struct ws_conn *ws)
{
    if (ws->prev)
        ws->prev->next = ws->next;
    else
        ws_all = ws->next;
    if (ws->next)
        ws->next->prev = ws->prev;
    ws_live--;
}

static void ws_destroy(struct ws_conn *ws)
{
    if (ws->in_read) {
        ws->free_pending = 1;
        return;
    }
    if (ws->evcon) {
        evhttp_connection_set_closecb(ws->evcon, NULL, NULL);
        /* Frees the pending request, the bufferevent and the socket. */
        evhttp_connection_free(ws->evcon);
    }
    if (ws->fragments)
        evbuffer_free(ws->fragments);
    ws_unlink(ws);
    free(ws);
}

/* Tell the owner, once, that the connection is over. */
static void ws_notify_close(struct ws_conn *ws, unsigned code, const char *why)
{
    if (!ws->owned)
        return;
    ws->owned = 0;
    if (ws->cb->on_close)
        ws->cb->on_close(ws->userdata, code, why);
}

static void ws_write_frame(struct ws_conn *ws, int opcode, const void *data, size_t len)
{
    uint8_t hdr[WS_FRAME_HEADER_MAX];
    size_t hl = ws_frame_encode_header(hdr, opcode, len);
    struct evbuffer *out = bufferevent_get_output(ws->bev);
    evbuffer_add(out, hdr, hl);
    if (len)
        evbuffer_add(out, data, len);
}

/* Our output is written: half-close, and free when the peer closes too. */
static void ws_linger(struct ws_conn *ws)
{
    if (ws->lingering)
        return;
    ws->lingering = 1;
    evutil_socket_t fd = bufferevent_getfd(ws->bev);
    if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
        ws_destroy(ws);
        return;
    }
    struct timeval tv = {WS_LINGER_SECONDS, 0};
    bufferevent_set_timeouts(ws->bev, &tv, NULL);
}

/* Send our close frame if not yet sent, drop further input, and free once
 * written and the peer closed (or went quiet). */
static void ws_finish(struct ws_conn *ws, unsigned code, const char *reason)
{
    if (!ws->bev) {
        ws_destroy(ws);
        return;
    }
    if (!ws->close_sent && code) {
        uint8_t payload[125];
        size_t rlen = reason ? strlen(reason) : 0;
        if (rlen > sizeof(payload) - 2)
            rlen = sizeof(payload) - 2;
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        if (rlen)
            memcpy(payload + 2, reason, rlen);
        ws_write_frame(ws, WS_OP_CLOSE, payload, rlen + 2);
        ws->close_sent = 1;
    }
    ws->finishing = 1;
    struct evbuffer *out = bufferevent_get_output(ws->bev);
    /* A peer that let this much pile up will not read it: drop it now
     * rather than hold the memory until TCP gives up. */
    if (evbuffer_get_length(out) > WS_CLOSE_FLUSH_MAX)
        evbuffer_drain(out, evbuffer_get_length(out));
    if (evbuffer_get_length(out) == 0)
        ws_linger(ws);
    /* Otherwise ws_on_write lingers when the output drains. */
}

static void ws_fail(struct ws_conn *ws, unsigned code, const char *why)
{
    ws_notify_close(ws, code, why);
    ws_finish(ws, code, why);
}

static void ws_deliver(struct ws_conn *ws, int binary, const uint8_t *data, size_t len)
{
    if (ws->owned && ws->cb->on_message)
        ws->cb->on_message(ws->userdata, binary, data, len);
}

static void ws_on_close_frame(struct ws_conn *ws, const uint8_t *p, size_t len)
{
    unsigned code = WS_CLOSE_NORMAL;
    if (len == 1) {
        ws_fail(ws, WS_CLOSE_PROTOCOL, "bad close payload");
        return;
    }
    if (len >= 2) {
        code = ((unsigned)p[0] << 8) | p[1];
        if (!ws_close_code_valid(code)) {
            ws_fail(ws, WS_CLOSE_PROTOCOL, "bad close code");
            return;
        }
        struct ws_utf8 u;
        ws_utf8_reset(&u);
        if (ws_utf8_feed(&u, p + 2, len - 2) || !ws_utf8_complete(&u)) {
            ws_fail(ws, WS_CLOSE_BAD_DATA, "bad close reason");
            return;
        }
    }
    ws_notify_close(ws, code, "peer closed");
    /* Echo the peer's code (7.1.5), then close the TCP connection. */
    ws_finish(ws, code, NULL);
}

/* Handle one complete frame whose unmasked payload is p[0..len). */
static void ws_on_frame(struct ws_conn *ws, const struct ws_frame_header *h, uint8_t *p, size_t len)
{
    switch (h->opcode) {
    case WS_OP_PING:
        ws_write_frame(ws, WS_OP_PONG, p, len);
        return;
    case WS_OP_PONG:
        return;
    case WS_OP_CLOSE:
        ws_on_close_frame(ws, p, len);
        return;
    default:
        break;
    }
    int starts = h->opcode != WS_OP_CONTINUATION;
    if (starts && ws->fragments) {
        ws_fail(ws, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
        return;
    }
    if (!starts && !ws->fragments) {
        ws_fail(ws, WS_CLOSE_PROTOCOL, "continuation without a message");
        return;
    }
    int binary = starts ? h->opcode == WS_OP_BINARY : ws->fragments_binary;
    if (starts)
        ws_utf8_reset(&ws->utf8);
    if (!binary && ws_utf8_feed(&ws->utf8, p, len)) {
        ws_fail(ws, WS_CLOSE_BAD_DATA, "invalid UTF-8");
        return;
    }
    if (h->fin && !binary && !ws_utf8_complete(&ws->utf8)) {
        ws_fail(ws, WS_CLOSE_BAD_DATA, "invalid UTF-8");
        return;
    }
    if (starts && h->fin) {
        ws_deliver(ws, binary, p, len);
        return;
    }
    if (starts) {
        ws->fragments = evbuffer_new();
        if (!ws->fragments) {
            ws_fail(ws, WS_CLOSE_INTERNAL, "out of memory");
            return;
        }
        ws->fragments_binary = binary;
    }
    if (evbuffer_add(ws->fragments, p, len)) {
        ws_fail(ws, WS_CLOSE_INTERNAL, "out of memory");
        return;
    }
    if (!h->fin)
        return;
    struct evbuffer *msg = ws->fragments;
    ws->fragments = NULL;
    size_t mlen = evbuffer_get_length(msg);
    ws_deliver(ws, binary, mlen ? evbuffer_pullup(msg, -1) : (const uint8_t *)"", mlen);
    evbuffer_free(msg);
}

static void ws_on_read(struct bufferevent *bev, void *arg)
{
    struct ws_conn *ws = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (ws->finishing) {
        ws->lingered += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (ws->lingered > WS_LINGER_MAX)
            ws_destroy(ws);
        return;
    }
    ws->in_read = 1;
    while (!ws->finishing) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 2)
            break;
        const uint8_t *head = evbuffer_pullup(in, avail < 14 ? (ev_ssize_t)avail : 14);
        struct ws_frame_header h;
        uint16_t code;
        int r = ws_frame_parse_header(head, avail < 14 ? avail : 14, &h, &code);
        if (r < 0) {
            ws_fail(ws, code, "protocol error");
            break;
        }
        if (r == 0)
            break;
        size_t so_far = ws->fragments ? evbuffer_get_length(ws->fragments) : 0;
        if (!(h.opcode & 0x8) && (h.length > ws->max_message || so_far + h.length > ws->max_message)) {
            ws_fail(ws, WS_CLOSE_TOO_BIG, "message too big");
            break;
        }
        if (avail - h.header_length < h.length)
            break;
        evbuffer_drain(in, h.header_length);
        size_t len = (size_t)h.length;
        uint8_t *p = len ? evbuffer_pullup(in, (ev_ssize_t)len) : (uint8_t *)"";
        if (!p) {
            ws_fail(ws, WS_CLOSE_INTERNAL, "out of memory");
            break;
        }
        if (len)
            ws_frame_unmask(p, len, h.mask, 0);
        ws_on_frame(ws, &h, p, len);
        evbuffer_drain(in, len);
    }
    ws->in_read = 0;
    if (ws->free_pending)
        ws_destroy(ws);
}

static void ws_on_write(struct bufferevent *bev, void *arg)
{
    struct ws_conn *ws = arg;
    if (ws->finishing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        ws_linger(ws);
}

static void ws_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct ws_conn *ws = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        ws_notify_close(ws, 1006, (what & BEV_EVENT_EOF) ? "connection closed" : "connection error");
        ws_destroy(ws);
    }
}

/* evhttp frees the connection itself (evhttp_free at shutdown). */
static void ws_on_evcon_closed(struct evhttp_connection *evcon, void *arg)
{
    struct ws_conn *ws = arg;
    (void)evcon;
    ws->evcon = NULL;
    ws->bev = NULL;
    ws_notify_close(ws, 1001, "server shutting down");
    ws_destroy(ws);
}

struct ws_conn *ws_conn_takeover(struct evhttp_request *req, const char *key, size_t max_message,
                                 const struct ws_callbacks *cb, void *userdata)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    if (!bev)
        return NULL;
    struct ws_conn *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->evcon = evcon;
    ws->bev = bev;
    ws->cb = cb;
    ws->userdata = userdata;
    ws->max_message = max_message;
    ws->owned = 1;
    char accept[WS_ACCEPT_LEN + 1];
    ws_accept_key(key, accept);
    struct evbuffer *out = bufferevent_get_output(bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 101 Switching Protocols\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: %s\r\n\r\n",
                        accept);
    /* The handshake headers were copied by the caller: release them now,
     * the request itself stays parked on the evhttp connection. */
    evhttp_clear_headers(evhttp_request_get_input_headers(req));
    evhttp_connection_set_closecb(evcon, ws_on_evcon_closed, ws);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    bufferevent_setcb(bev, ws_on_read, ws_on_write, ws_on_event, ws);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    /* Clear evhttp's request timeout only now that the events are pending:
     * libevent forgets an event's timeout only when the timer is removed
     * from a pending event; otherwise the next read re-arms it, and the
     * WebSocket would be dropped header_timeout_ms after any quiet spell.
     * The Engine.IO heartbeat is what bounds an idle WebSocket. */
    bufferevent_set_timeouts(bev, NULL, NULL);
    /* Frames the client pipelined after its handshake may already sit in
     * the input buffer: read them from the loop, not from this call. */
    if (evbuffer_get_length(bufferevent_get_input(bev)))
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    ws_link(ws);
    return ws;
}

void ws_conn_set_callbacks(struct ws_conn *ws, const struct ws_callbacks *cb, void *userdata)
{
    ws->cb = cb;
    ws->userdata = userdata;
}

int ws_conn_send(struct ws_conn *ws, int binary, const void *data, size_t len)
{
    if (!ws->bev || ws->finishing)
        return -1;
    ws_write_frame(ws, binary ? WS_OP_BINARY : WS_OP_TEXT, data, len);
    return 0;
}

int ws_conn_send_ref(struct ws_conn *ws, const void *frame, size_t len,
                     void (*release)(const void *data, size_t len, void *arg), void *arg)
{
    if (!ws->bev || ws->finishing)
        return -1;
    return evbuffer_add_reference(bufferevent_get_output(ws->bev), frame, len, release, arg);
}

void ws_conn_flush(struct ws_conn *ws)
{
    if (!ws->bev || ws->finishing)
        return;
    evutil_socket_t fd = bufferevent_getfd(ws->bev);
    struct evbuffer *out = bufferevent_get_output(ws->bev);
    if (fd < 0 || evbuffer_get_length(out) == 0)
        return;
    /* A socket bufferevent keeps its output frozen at the front except
     * while it writes itself.  Errors (EAGAIN included) are left to the
     * bufferevent's next write. */
    evbuffer_unfreeze(out, 1);
    evbuffer_write(out, fd);
    evbuffer_freeze(out, 1);
}

size_t ws_conn_pending(const struct ws_conn *ws)
{
    return ws->bev ? evbuffer_get_length(bufferevent_get_output(ws->bev)) : 0;
}

void ws_conn_close(struct ws_conn *ws, unsigned code, const char *reason)
{
    ws->owned = 0;
    if (!ws->finishing)
        ws_finish(ws, code, reason);
}

size_t ws_conn_count(void)
{
    return ws_live;
}

void ws_conn_free_all(void)
{
    while (ws_all) {
        struct ws_conn *ws = ws_all;
        ws->in_read = 0;
        ws_notify_close(ws, WS_CLOSE_GOING_AWAY, "server shutting down");
        ws_destroy(ws);
    }
}
