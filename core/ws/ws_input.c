/* A WebSocket's input (see ws_input.h): frames read and parsed, messages
 * reassembled and checked (UTF-8, size), control frames answered. */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include "ws/ws_frame.h"
#include "ws/ws_input.h"
#include "ws/ws_output.h"

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

/* Parse and handle the complete frames in ws->in.  -1: ws was freed. */
static int ws_process_input(struct ws_conn *ws)
{
    struct evbuffer *in = ws->in;
    if (ws->finishing) {
        size_t n = evbuffer_get_length(in);
        evbuffer_drain(in, n);
        if (n > WS_LINGER_MAX - ws->lingered) {
            ws_destroy(ws);
            return -1;
        }
        ws->lingered += (uint32_t)n;
        return 0;
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
    if (ws->free_pending) {
        ws_destroy(ws);
        return -1;
    }
    return 0;
}

/* Read what the socket has and handle it.  -1: ws was freed. */
static int ws_read(struct ws_conn *ws)
{
    if (!ws->in && !(ws->in = evbuffer_new())) {
        ws_notify_close(ws, 1006, "out of memory");
        ws_destroy(ws);
        return -1;
    }
    int n = evbuffer_read(ws->in, ws_fd(ws), -1);
    if (n == 0 || (n < 0 && !ws_io_retriable())) {
        ws_notify_close(ws, 1006, n == 0 ? "connection closed" : "connection error");
        ws_destroy(ws);
        return -1;
    }
    /* Even with nothing read: input moved from evhttp waits here. */
    if (evbuffer_get_length(ws->in) && ws_process_input(ws) != 0)
        return -1;
    /* Nothing left: an idle connection keeps no input buffer. */
    if (!evbuffer_get_length(ws->in)) {
        evbuffer_free(ws->in);
        ws->in = NULL;
    }
    return 0;
}

void ws_input_on_io(evutil_socket_t fd, short what, void *arg)
{
    struct ws_conn *ws = arg;
    (void)fd;
    if (what & EV_TIMEOUT) { /* lingering, and the peer went quiet */
        ws_notify_close(ws, 1006, "connection error");
        ws_destroy(ws);
        return;
    }
    if ((what & EV_READ) && ws_read(ws) != 0)
        return;
    if (what & EV_WRITE)
        ws_write_out(ws);
}

