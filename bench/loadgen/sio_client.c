#include "sio_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "net.h"
#include "ws.h"

/* Larger reads than libevent's 4 KB default: a subscriber of a busy channel
 * receives many small frames per loop turn. */
#define READ_CHUNK 65536
/* Nothing the benchmarks exchange comes near this. */
#define MAX_MESSAGE (16u << 20)

enum state {
    STATE_UPGRADING,     /* waiting for 101 Switching Protocols */
    STATE_OPENING,       /* waiting for the Engine.IO open packet */
    STATE_CONNECTING,    /* "40" sent, waiting for the Socket.IO CONNECT ack */
    STATE_READY,
    STATE_CLOSED,
};

struct sio_client {
    struct bufferevent *bev;
    const struct sio_client_handler *handler;
    void *userdata;
    struct evbuffer *fragments;   /* only while a fragmented message arrives */
    uint64_t started_us;
    char key[WS_KEY_LEN + 1];
    uint8_t state;
    uint8_t connected;            /* the CONNECT was accepted, even if closed since */
    uint8_t in_callback;          /* freeing is deferred to the end of read_cb */
};

static void client_free(struct sio_client *c)
{
    if (c->bev)
        bufferevent_free(c->bev);
    if (c->fragments)
        evbuffer_free(c->fragments);
    free(c);
}

static void client_fail(struct sio_client *c, const char *reason)
{
    if (c->state == STATE_CLOSED)
        return;
    c->state = STATE_CLOSED;
    c->handler->on_close(c, reason);
    if (!c->in_callback)
        client_free(c);
}

static int send_engine_packet(struct sio_client *c, const char *packet, size_t len)
{
    return ws_write_frame(bufferevent_get_output(c->bev), WS_TEXT, NULL, 0, packet, len);
}

/* One complete Engine.IO packet. */
static void handle_engine_packet(struct sio_client *c, const char *p, size_t len)
{
    if (len == 0)
        return;
    switch (p[0]) {
    case '0':
        if (c->state == STATE_OPENING) {
            c->state = STATE_CONNECTING;
            send_engine_packet(c, "40", 2);
        }
        return;
    case '1':
        client_fail(c, "engine.io close");
        return;
    case '2':
        send_engine_packet(c, "3", 1);
        return;
    case '4':
        break;
    default:
        return;  /* pong, noop */
    }
    p++;
    len--;
    if (c->state == STATE_CONNECTING) {
        if (len >= 1 && p[0] == '0') {
            c->state = STATE_READY;
            c->connected = 1;
            c->handler->on_ready(c);
        } else if (len >= 1 && p[0] == '4') {
            char reason[160];
            snprintf(reason, sizeof reason, "connect_error %.*s", (int)(len > 120 ? 120 : len), p + 1);
            client_fail(c, reason);
        }
        return;
    }
    if (c->state == STATE_READY)
        c->handler->on_packet(c, p, len);
}

static int handle_upgrade(struct sio_client *c, struct evbuffer *in)
{
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    if (end.pos < 0) {
        if (evbuffer_get_length(in) > 16384)
            client_fail(c, "oversize upgrade response");
        return 0;
    }
    size_t head_len = (size_t)end.pos + 4;
    const char *head = (const char *)evbuffer_pullup(in, (ev_ssize_t)head_len);
    if (head_len < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
        char reason[96];
        const char *eol = memchr(head, '\r', head_len);
        snprintf(reason, sizeof reason, "upgrade refused: %.*s", (int)((eol ? eol : head + 40) - head), head);
        client_fail(c, reason);
        return 0;
    }
    char accept[WS_ACCEPT_LEN + 1];
    ws_expected_accept(c->key, accept);
    if (!memmem(head, head_len, accept, WS_ACCEPT_LEN)) {
        client_fail(c, "bad Sec-WebSocket-Accept");
        return 0;
    }
    evbuffer_drain(in, head_len);
    c->state = STATE_OPENING;
    return 1;
}

/* Handle one frame if complete: 1 if one was consumed, 0 otherwise. */
static int handle_frame(struct sio_client *c, struct evbuffer *in)
{
    size_t avail = evbuffer_get_length(in);
    unsigned char head[14];
    size_t peek = avail < sizeof head ? avail : sizeof head;
    if (evbuffer_copyout(in, head, peek) < 0)
        return 0;
    struct ws_frame_header h;
    int r = ws_parse_header(head, peek, &h);
    if (r < 0) {
        client_fail(c, "bad websocket frame");
        return 0;
    }
    if (r == 0)
        return 0;
    if (h.payload_len > MAX_MESSAGE) {
        client_fail(c, "oversize websocket frame");
        return 0;
    }
    size_t total = h.header_len + (size_t)h.payload_len;
    if (avail < total)
        return 0;
    unsigned char *frame = evbuffer_pullup(in, (ev_ssize_t)total);
    char *payload = (char *)frame + h.header_len;
    size_t len = (size_t)h.payload_len;
    if (h.masked)
        for (size_t i = 0; i < len; i++)
            payload[i] ^= (char)h.mask[i & 3];

    switch (h.opcode) {
    case WS_TEXT:
    case WS_BINARY:
    case WS_CONTINUATION:
        if (h.fin && !c->fragments && h.opcode != WS_CONTINUATION) {
            handle_engine_packet(c, payload, len);
        } else {
            if (!c->fragments)
                c->fragments = evbuffer_new();
            evbuffer_add(c->fragments, payload, len);
            if (evbuffer_get_length(c->fragments) > MAX_MESSAGE) {
                client_fail(c, "oversize websocket message");
                break;
            }
            if (h.fin) {
                size_t whole = evbuffer_get_length(c->fragments);
                handle_engine_packet(c, (const char *)evbuffer_pullup(c->fragments, -1), whole);
                if (c->fragments) {
                    evbuffer_free(c->fragments);
                    c->fragments = NULL;
                }
            }
        }
        break;
    case WS_PING:
        ws_write_frame(bufferevent_get_output(c->bev), WS_PONG, NULL, 0, payload, len);
        break;
    case WS_CLOSE:
        client_fail(c, "websocket close");
        break;
    default:
        break;
    }
    if (c->state != STATE_CLOSED)
        evbuffer_drain(in, total);
    return 1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct sio_client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->in_callback = 1;
    if (c->state == STATE_UPGRADING)
        handle_upgrade(c, in);
    while (c->state != STATE_CLOSED && c->state != STATE_UPGRADING && handle_frame(c, in))
        ;
    c->in_callback = 0;
    if (c->state == STATE_CLOSED)
        client_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct sio_client *c = arg;
    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        return;
    if (what & BEV_EVENT_EOF) {
        client_fail(c, "closed by server");
    } else if (what & BEV_EVENT_ERROR) {
        char reason[96];
        snprintf(reason, sizeof reason, "socket error: %s", strerror(EVUTIL_SOCKET_ERROR()));
        client_fail(c, reason);
    }
}

struct sio_client *sio_client_open(struct event_base *base, const struct endpoint *ep, const char *token,
                                   unsigned source_index, unsigned source_spread,
                                   const struct sio_client_handler *handler, void *userdata)
{
    int fd = net_socket_from(source_index, source_spread);
    if (fd < 0)
        return NULL;
    struct sio_client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->handler = handler;
    c->userdata = userdata;
    c->started_us = clock_now_us();
    c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev) {
        close(fd);
        free(c);
        return NULL;
    }
    bufferevent_set_max_single_read(c->bev, READ_CHUNK);
    bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
    ws_make_key(c->key);
    /* Queued now, flushed by libevent once the connection is up. */
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "GET /socket.io/?EIO=4&transport=websocket&token=%s HTTP/1.1\r\n"
                        "Host: %s:%d\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n",
                        token, ep->host, ep->port, c->key);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (const struct sockaddr *)&ep->addr, sizeof ep->addr) != 0) {
        client_free(c);
        return NULL;
    }
    return c;
}

void *sio_client_userdata(const struct sio_client *c)
{
    return c->userdata;
}

uint64_t sio_client_started_us(const struct sio_client *c)
{
    return c->started_us;
}

int sio_client_was_connected(const struct sio_client *c)
{
    return c->connected;
}

int sio_client_send(struct sio_client *c, const char *packet, size_t len)
{
    if (c->state != STATE_READY)
        return -1;
    return ws_write_frame(bufferevent_get_output(c->bev), WS_TEXT, "4", 1, packet, len);
}

void sio_client_close(struct sio_client *c)
{
    c->state = STATE_CLOSED;
    if (!c->in_callback)
        client_free(c);
}
