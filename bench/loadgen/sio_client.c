#include "sio_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "clock.h"
#include "net.h"
#include "ws.h"

/* Plain read() into one buffer shared by every client, rather than a
 * bufferevent per client: a subscriber of a busy channel gets many small
 * frames per wake-up, and the tool must stay cheaper per delivery than the
 * servers it measures.  Only the unparsed tail of a read is kept per client. */
#define SHARED_SIZE (256u << 10)
/* Nothing the benchmarks exchange comes near this. */
#define MAX_MESSAGE (16u << 20)
#define MAX_UPGRADE_RESPONSE 16384u

enum state {
    STATE_TCP_CONNECTING,
    STATE_UPGRADING,     /* waiting for 101 Switching Protocols */
    STATE_OPENING,       /* waiting for the Engine.IO open packet */
    STATE_CONNECTING,    /* "40" sent, waiting for the Socket.IO CONNECT ack */
    STATE_READY,
    STATE_CLOSED,
};

struct sio_client {
    int fd;
    struct event *read_ev;        /* persistent */
    struct event *write_ev;       /* armed only while output is pending */
    struct evbuffer *out;
    const struct sio_client_handler *handler;
    void *userdata;
    unsigned char *tail;          /* bytes of an incomplete frame from the last read */
    size_t tail_len;
    struct evbuffer *fragments;   /* only while a fragmented message arrives */
    uint64_t started_us;
    char key[WS_KEY_LEN + 1];
    uint8_t state;
    uint8_t connected;            /* the CONNECT was accepted, even if closed since */
    uint8_t in_callback;          /* freeing is deferred to the end of read_cb */
};

static unsigned char shared[SHARED_SIZE];

static void client_free(struct sio_client *c)
{
    if (c->read_ev)
        event_free(c->read_ev);
    if (c->write_ev)
        event_free(c->write_ev);
    if (c->fd >= 0)
        close(c->fd);
    if (c->out)
        evbuffer_free(c->out);
    if (c->fragments)
        evbuffer_free(c->fragments);
    free(c->tail);
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

/* Write what is queued; arm write_ev for the rest. */
static void flush(struct sio_client *c)
{
    if (c->state == STATE_TCP_CONNECTING || c->state == STATE_CLOSED)
        return;
    while (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            event_add(c->write_ev, NULL);
            return;
        }
        return;  /* a broken socket: the read side reports it */
    }
}

static int send_engine_packet(struct sio_client *c, const char *packet, size_t len)
{
    if (ws_write_frame(c->out, WS_TEXT, NULL, 0, packet, len) != 0)
        return -1;
    flush(c);
    return 0;
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
            snprintf(reason, sizeof reason, "connect_error %.*s", (int)(len - 1 > 120 ? 120 : len - 1), p + 1);
            client_fail(c, reason);
        }
        return;
    }
    if (c->state == STATE_READY)
        c->handler->on_packet(c, p, len);
}

/* The 101 response; returns the bytes it took, 0 if incomplete. */
static size_t handle_upgrade(struct sio_client *c, const unsigned char *data, size_t len)
{
    const char *head = (const char *)data;
    const char *end = memmem(head, len, "\r\n\r\n", 4);
    if (!end) {
        if (len > MAX_UPGRADE_RESPONSE)
            client_fail(c, "oversize upgrade response");
        return 0;
    }
    size_t head_len = (size_t)(end - head) + 4;
    if (head_len < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
        char reason[96];
        const char *eol = memchr(head, '\r', head_len);
        snprintf(reason, sizeof reason, "upgrade refused: %.*s", (int)(eol - head), head);
        client_fail(c, reason);
        return 0;
    }
    char accept[WS_ACCEPT_LEN + 1];
    ws_expected_accept(c->key, accept);
    if (!memmem(head, head_len, accept, WS_ACCEPT_LEN)) {
        client_fail(c, "bad Sec-WebSocket-Accept");
        return 0;
    }
    c->state = STATE_OPENING;
    return head_len;
}

/* Handle one frame at data if complete: the bytes it took, 0 if incomplete. */
static size_t handle_frame(struct sio_client *c, unsigned char *data, size_t avail)
{
    struct ws_frame_header h;
    int r = ws_parse_header(data, avail, &h);
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
    char *payload = (char *)data + h.header_len;
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
            break;
        }
        if (!c->fragments)
            c->fragments = evbuffer_new();
        evbuffer_add(c->fragments, payload, len);
        if (evbuffer_get_length(c->fragments) > MAX_MESSAGE) {
            client_fail(c, "oversize websocket message");
        } else if (h.fin) {
            struct evbuffer *whole = c->fragments;
            c->fragments = NULL;
            size_t n = evbuffer_get_length(whole);
            handle_engine_packet(c, (const char *)evbuffer_pullup(whole, -1), n);
            evbuffer_free(whole);
        }
        break;
    case WS_PING:
        ws_write_frame(c->out, WS_PONG, NULL, 0, payload, len);
        flush(c);
        break;
    case WS_CLOSE:
        client_fail(c, "websocket close");
        break;
    default:
        break;
    }
    return total;
}

/* Parse what arrived; returns the bytes consumed. */
static size_t consume(struct sio_client *c, unsigned char *data, size_t len)
{
    size_t used = 0;
    if (c->state == STATE_UPGRADING)
        used = handle_upgrade(c, data, len);
    while (c->state != STATE_CLOSED && c->state != STATE_UPGRADING && used < len) {
        size_t n = handle_frame(c, data + used, len - used);
        if (n == 0)
            break;
        used += n;
    }
    return used;
}

/* How many bytes the frame starting the tail needs in all, if known. */
static size_t tail_needs(const struct sio_client *c)
{
    struct ws_frame_header h;
    if (c->state == STATE_UPGRADING || ws_parse_header(c->tail, c->tail_len, &h) != 1)
        return 0;
    return h.header_len + (size_t)h.payload_len;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sio_client *c = arg;
    (void)what;
    unsigned char *buf = shared;
    size_t cap = SHARED_SIZE;
    size_t need = tail_needs(c);
    if (need + 4096 > SHARED_SIZE) {
        /* A frame larger than the shared buffer: grow the tail and read into it. */
        if (need > MAX_MESSAGE + 14) {
            client_fail(c, "oversize websocket frame");
            return;
        }
        unsigned char *grown = realloc(c->tail, need + 4096);
        if (!grown) {
            client_fail(c, "out of memory");
            return;
        }
        c->tail = grown;
        buf = grown;
        cap = need + 4096;
    } else if (c->tail_len) {
        memcpy(shared, c->tail, c->tail_len);
    }
    ssize_t n = read(fd, buf + c->tail_len, cap - c->tail_len);
    if (n == 0) {
        client_fail(c, "closed by server");
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        char reason[96];
        snprintf(reason, sizeof reason, "socket error: %s", strerror(errno));
        client_fail(c, reason);
        return;
    }
    size_t len = c->tail_len + (size_t)n;
    c->in_callback = 1;
    size_t used = consume(c, buf, len);
    c->in_callback = 0;
    if (c->state == STATE_CLOSED) {
        client_free(c);
        return;
    }
    size_t rest = len - used;
    if (rest > MAX_UPGRADE_RESPONSE && c->state == STATE_UPGRADING) {
        client_fail(c, "oversize upgrade response");
        return;
    }
    if (buf == c->tail) {
        memmove(c->tail, c->tail + used, rest);
    } else if (rest > 0) {
        unsigned char *kept = realloc(c->tail, rest);
        if (!kept) {
            client_fail(c, "out of memory");
            return;
        }
        memcpy(kept, buf + used, rest);
        c->tail = kept;
    }
    c->tail_len = rest;
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sio_client *c = arg;
    (void)what;
    if (c->state == STATE_TCP_CONNECTING) {
        int err = 0;
        socklen_t err_len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0)
            err = errno;
        if (err) {
            char reason[96];
            snprintf(reason, sizeof reason, "connect: %s", strerror(err));
            client_fail(c, reason);
            return;
        }
        c->state = STATE_UPGRADING;
        event_add(c->read_ev, NULL);
    }
    flush(c);
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
    c->fd = fd;
    c->handler = handler;
    c->userdata = userdata;
    c->started_us = clock_now_us();
    c->state = STATE_TCP_CONNECTING;
    c->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->write_ev = event_new(base, fd, EV_WRITE, write_cb, c);
    c->out = evbuffer_new();
    if (!c->read_ev || !c->write_ev || !c->out) {
        client_free(c);
        return NULL;
    }
    ws_make_key(c->key);
    /* Queued now, written once the connection is up. */
    evbuffer_add_printf(c->out,
                        "GET /socket.io/?EIO=4&transport=websocket&token=%s HTTP/1.1\r\n"
                        "Host: %s:%d\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n",
                        token, ep->host, ep->port, c->key);
    if (connect(fd, (const struct sockaddr *)&ep->addr, sizeof ep->addr) != 0 && errno != EINPROGRESS) {
        int saved = errno;
        client_free(c);
        errno = saved;
        return NULL;
    }
    event_add(c->write_ev, NULL);
    return c;
}

struct sio_client *sio_client_adopt(struct event_base *base, int fd, const struct sio_client_handler *handler,
                                   void *userdata)
{
    struct sio_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->handler = handler;
    c->userdata = userdata;
    c->started_us = clock_now_us();
    c->state = STATE_READY;
    c->connected = 1;
    c->read_ev = event_new(base, fd, EV_READ | EV_PERSIST, read_cb, c);
    c->write_ev = event_new(base, fd, EV_WRITE, write_cb, c);
    c->out = evbuffer_new();
    if (!c->read_ev || !c->write_ev || !c->out || event_add(c->read_ev, NULL) != 0) {
        c->fd = -1;  /* the caller keeps it */
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
    if (ws_write_frame(c->out, WS_TEXT, "4", 1, packet, len) != 0)
        return -1;
    flush(c);
    return 0;
}

void sio_client_close(struct sio_client *c)
{
    c->state = STATE_CLOSED;
    if (!c->in_callback)
        client_free(c);
}

/* Whether an ack packet carries "ok": true (with or without blanks). */
int sio_ack_ok(const char *packet, size_t len)
{
    const char *p = memmem(packet, len, "\"ok\":", 5);
    if (!p)
        return 0;
    const char *end = packet + len;
    for (p += 5; p < end && (*p == ' ' || *p == '\t'); p++)
        ;
    return end - p >= 4 && memcmp(p, "true", 4) == 0;
}
