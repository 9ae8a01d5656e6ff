/* RFC 6455 sections 5 to 7 over a socket taken from evhttp after the 101. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <sys/socket.h>
#include "ws/ws_conn.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_utf8.h"

/* An idle WebSocket costs this struct and nothing else here: no bufferevent
 * (its private part and two evbuffers are about 0.9 KB), and the input and
 * output evbuffers exist only while they hold bytes. */
struct ws_conn {
    struct event ev;          /* the socket (event_get_fd): read, plus write while blocked */
    struct evbuffer *in;      /* read and not yet parsed, or NULL */
    struct evbuffer *out;     /* not yet written, or NULL */
    struct evbuffer *fragments; /* a fragmented message being reassembled, or NULL */
    const struct ws_callbacks *cb;
    void *userdata;
    struct ws_conn *prev, *next;   /* all connections */
    uint32_t max_message;
    uint32_t lingered;        /* bytes read and dropped while closing */
    uint32_t dirty;           /* 1 + our index in ws_dirty, or 0 */
    struct ws_utf8 utf8;
    unsigned fragments_binary : 1;
    unsigned owned : 1;      /* the owner still holds us: callbacks allowed */
    unsigned close_sent : 1;
    unsigned finishing : 1;  /* free once the output is written */
    unsigned in_read : 1;
    unsigned free_pending : 1;
    unsigned lingering : 1;  /* our side is shut down; waiting for the peer's */
    unsigned blocked : 1;    /* the socket was full: waiting for EV_WRITE */
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

static evutil_socket_t ws_fd(const struct ws_conn *ws)
{
    return event_get_fd(&ws->ev);
}

/* Output is written once per connection per loop turn, by one event run
 * after the turn's other callbacks: what a turn queues goes out in one
 * write, without waiting for the socket to be reported writable.  The
 * connections to write are kept in the order their output was queued, each
 * with the first frame it was given by reference while it had no output
 * buffer: the common case (one shared broadcast frame for an idle
 * connection) is then written straight from the shared buffer with one
 * send(), with no evbuffer, no allocation and no copy. */
struct ws_dirty {
    struct ws_conn *ws; /* NULL: no longer to be written from here */
    const void *frame;  /* held by reference and not in ws->out, or NULL */
    size_t len;
    void (*release)(const void *data, size_t len, void *arg);
    void *arg;
};
static struct ws_dirty *ws_dirty;
static size_t ws_n_dirty, ws_cap_dirty;
static struct event *ws_flush_ev;

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

static struct ws_dirty *ws_dirty_of(const struct ws_conn *ws)
{
    return ws->dirty ? &ws_dirty[ws->dirty - 1] : NULL;
}

static void ws_dirty_release(struct ws_dirty *d)
{
    if (d->frame)
        d->release(d->frame, d->len, d->arg);
    d->frame = NULL;
}

/* Put ws on the list of connections to write at the end of this turn.
 * NULL when the list cannot grow. */
static struct ws_dirty *ws_dirty_add(struct ws_conn *ws)
{
    if (ws_n_dirty == ws_cap_dirty) {
        size_t cap = ws_cap_dirty ? ws_cap_dirty * 2 : 256;
        struct ws_dirty *d = cap <= UINT32_MAX ? realloc(ws_dirty, cap * sizeof(*d)) : NULL;
        if (!d)
            return NULL;
        ws_dirty = d;
        ws_cap_dirty = cap;
    }
    if (ws_n_dirty == 0)
        event_active(ws_flush_ev, EV_TIMEOUT, 0);
    struct ws_dirty *d = &ws_dirty[ws_n_dirty++];
    *d = (struct ws_dirty){.ws = ws};
    ws->dirty = (uint32_t)ws_n_dirty;
    return d;
}

/* Take ws off the list; a frame it held is dropped. */
static void ws_dirty_drop(struct ws_conn *ws)
{
    struct ws_dirty *d = ws_dirty_of(ws);
    if (!d)
        return;
    ws_dirty_release(d);
    d->ws = NULL;
    ws->dirty = 0;
}

/* Move the frame held on the list for ws, if any, into its output buffer,
 * where it goes first: it was queued before anything else.  -1: out of
 * memory, and the frame was dropped. */
static int ws_take_pending(struct ws_conn *ws)
{
    struct ws_dirty *d = ws_dirty_of(ws);
    if (!d || !d->frame)
        return 0;
    if (!ws->out)
        ws->out = evbuffer_new();
    if (!ws->out || evbuffer_add_reference(ws->out, d->frame, d->len, d->release, d->arg) != 0) {
        ws_dirty_release(d);
        return -1;
    }
    d->frame = NULL;
    return 0;
}

/* (Re)register the socket: read always, write only while blocked; while
 * lingering, a timeout bounds the wait for the peer's close. */
static int ws_arm(struct ws_conn *ws, int want_write);

/* Output was queued in ws->out: write it at the end of this loop turn (or
 * when the socket is writable, if the list cannot grow). */
static void ws_mark_dirty(struct ws_conn *ws)
{
    if (ws->dirty || ws->blocked)
        return;
    if (!ws_dirty_add(ws))
        ws_arm(ws, 1);
}

/* evhttp connections whose socket was taken over, waiting to be freed from
 * the loop: freeing one inside evhttp's own request callback would pull the
 * request and connection out from under the evhttp code that called it. */
static struct evhttp_connection **ws_parked;
static size_t ws_n_parked, ws_cap_parked;
static struct event *ws_release_ev;
/* /dev/null, kept open: dup2()ed over the socket's old fd number so that
 * what evhttp does to that number when it frees the connection (close, and
 * shutdown(SHUT_WR) on the fd it recorded at accept) hits this instead of
 * the client's socket, which lives on under a new number. */
static int ws_placeholder_fd = -1;

static void ws_release_parked(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    while (ws_n_parked) {
        struct evhttp_connection *evcon = ws_parked[--ws_n_parked];
        evhttp_connection_set_closecb(evcon, NULL, NULL);
        evhttp_connection_free(evcon);
    }
}

/* evhttp_free got to a parked connection first (shutdown): forget it. */
static void ws_parked_freed(struct evhttp_connection *evcon, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ws_n_parked; i++) {
        if (ws_parked[i] == evcon) {
            ws_parked[i] = ws_parked[--ws_n_parked];
            return;
        }
    }
}

static void ws_flush_all(evutil_socket_t fd, short what, void *arg);

static int ws_park_reserve(struct event_base *base)
{
    if (ws_placeholder_fd < 0)
        ws_placeholder_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (ws_placeholder_fd < 0)
        return -1;
    if (!ws_release_ev && !(ws_release_ev = event_new(base, -1, 0, ws_release_parked, NULL)))
        return -1;
    if (!ws_flush_ev && !(ws_flush_ev = event_new(base, -1, 0, ws_flush_all, NULL)))
        return -1;
    if (ws_n_parked < ws_cap_parked)
        return 0;
    size_t cap = ws_cap_parked ? ws_cap_parked * 2 : 64;
    struct evhttp_connection **p = realloc(ws_parked, cap * sizeof(*p));
    if (!p)
        return -1;
    ws_parked = p;
    ws_cap_parked = cap;
    return 0;
}

static void ws_destroy(struct ws_conn *ws)
{
    if (ws->in_read) {
        ws->free_pending = 1;
        return;
    }
    event_del(&ws->ev);
    evutil_closesocket(ws_fd(ws));
    if (ws->in)
        evbuffer_free(ws->in);
    if (ws->out)
        evbuffer_free(ws->out); /* releases what was sent by reference */
    if (ws->fragments)
        evbuffer_free(ws->fragments);
    ws_dirty_drop(ws);
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

/* The output buffer, with the frame held on the list moved in first. */
static struct evbuffer *ws_out(struct ws_conn *ws)
{
    if (!ws->out)
        ws->out = evbuffer_new();
    if (!ws->out || ws_take_pending(ws) != 0)
        return NULL;
    return ws->out;
}

static int ws_write_frame(struct ws_conn *ws, int opcode, const void *data, size_t len)
{
    uint8_t hdr[WS_FRAME_HEADER_MAX];
    size_t hl = ws_frame_encode_header(hdr, opcode, len);
    struct evbuffer *out = ws_out(ws);
    if (!out || evbuffer_add(out, hdr, hl) != 0 || (len && evbuffer_add(out, data, len) != 0))
        return -1;
    ws_mark_dirty(ws);
    return 0;
}

static int ws_io_retriable(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Our output is written: half-close, and free when the peer closes too. */
static int ws_linger(struct ws_conn *ws)
{
    if (ws->lingering)
        return 0;
    ws->lingering = 1;
    if (shutdown(ws_fd(ws), SHUT_WR) != 0 || ws_arm(ws, 0) != 0) {
        ws_destroy(ws);
        return -1; /* ws is freed, or will be once the read loop unwinds */
    }
    return 0;
}

/* Write what is queued; on a full socket, wait for EV_WRITE.  -1: ws was
 * freed. */
static int ws_write_out(struct ws_conn *ws)
{
    if (ws->out && evbuffer_get_length(ws->out) && evbuffer_write(ws->out, ws_fd(ws)) < 0 && !ws_io_retriable()) {
        ws_notify_close(ws, 1006, "connection error");
        ws_destroy(ws);
        return -1;
    }
    if (ws->out && evbuffer_get_length(ws->out)) {
        if (!ws->blocked && ws_arm(ws, 1) != 0) {
            ws_notify_close(ws, 1006, "connection error");
            ws_destroy(ws);
            return -1;
        }
        return 0;
    }
    /* Nothing left: an idle connection keeps no output buffer. */
    if (ws->out) {
        evbuffer_free(ws->out);
        ws->out = NULL;
    }
    if (ws->blocked && ws_arm(ws, 0) != 0) {
        ws_notify_close(ws, 1006, "connection error");
        ws_destroy(ws);
        return -1;
    }
    if (ws->finishing && ws_linger(ws) != 0)
        return -1;
    return 0;
}

/* Send our close frame if not yet sent, drop further input, and free once
 * written and the peer closed (or went quiet). */
static void ws_finish(struct ws_conn *ws, unsigned code, const char *reason)
{
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
    ws_take_pending(ws);
    ws->finishing = 1;
    /* A peer that let this much pile up will not read it: drop it now
     * rather than hold the memory until TCP gives up. */
    if (ws->out && evbuffer_get_length(ws->out) > WS_CLOSE_FLUSH_MAX)
        evbuffer_drain(ws->out, evbuffer_get_length(ws->out));
    if (!ws->out || evbuffer_get_length(ws->out) == 0)
        ws_linger(ws);
    /* Otherwise ws_write_out lingers when the output is written. */
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

static void ws_on_io(evutil_socket_t fd, short what, void *arg)
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

static int ws_arm(struct ws_conn *ws, int want_write)
{
    struct event_base *base = event_get_base(&ws->ev);
    struct timeval tv = {WS_LINGER_SECONDS, 0};
    event_del(&ws->ev);
    ws->blocked = want_write ? 1 : 0;
    if (want_write) { /* EV_WRITE takes it from here */
        ws_take_pending(ws);
        ws_dirty_drop(ws);
    }
    if (event_assign(&ws->ev, base, ws_fd(ws), EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0), ws_on_io, ws) != 0 ||
        event_add(&ws->ev, ws->lingering ? &tv : NULL) != 0)
        return -1;
    /* event_del() dropped a pending activation: input moved from evhttp
     * and not yet parsed must still be read. */
    if (ws->in && evbuffer_get_length(ws->in))
        event_active(&ws->ev, EV_READ, 0);
    return 0;
}

/* Write the one frame held for ws on the list straight from its shared
 * buffer; what the socket does not take moves to ws->out. */
static void ws_write_held(struct ws_conn *ws, struct ws_dirty *d)
{
    ssize_t n = send(ws_fd(ws), d->frame, d->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && !ws_io_retriable()) {
        ws_dirty_release(d);
        ws_notify_close(ws, 1006, "connection error");
        ws_destroy(ws);
        return;
    }
    if (n == (ssize_t)d->len) {
        ws_dirty_release(d);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    if (!(ws->out = evbuffer_new()) ||
        evbuffer_add_reference(ws->out, (const uint8_t *)d->frame + done, d->len - done, d->release, d->arg) != 0) {
        ws_dirty_release(d);
        ws_notify_close(ws, 1006, "out of memory");
        ws_destroy(ws);
        return;
    }
    d->frame = NULL;
    ws_write_out(ws); /* waits for EV_WRITE */
}

static void ws_flush_all(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* Writing may close a connection, whose owner may queue output to
     * others: the list can grow (and move) while it is walked. */
    for (size_t i = 0; i < ws_n_dirty; i++) {
        struct ws_dirty d = ws_dirty[i];
        if (!d.ws)
            continue;
        ws_dirty[i].ws = NULL;
        ws_dirty[i].frame = NULL;
        d.ws->dirty = 0;
        if (d.frame && !d.ws->out)
            ws_write_held(d.ws, &d);
        else
            ws_write_out(d.ws);
    }
    ws_n_dirty = 0;
}

/* Move the socket of evcon under a new fd number into ws, so that the
 * evhttp connection and request (with evhttp's copies of the request line,
 * URI and headers) can be freed now rather than kept for the WebSocket's
 * whole life.  -1, with evcon untouched, on failure. */
static int ws_steal_socket(struct evhttp_connection *evcon, struct ws_conn *ws)
{
    struct bufferevent *old = evhttp_connection_get_bufferevent(evcon);
    evutil_socket_t fd = old ? bufferevent_getfd(old) : -1;
    struct event_base *base = old ? bufferevent_get_base(old) : NULL;
    if (fd < 0 || !base || ws_park_reserve(base) != 0)
        return -1;
    struct evbuffer *pending = bufferevent_get_input(old);
    if (evbuffer_get_length(pending) && !(ws->in = evbuffer_new()))
        return -1;
    int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    /* Take the old bufferevent's events out of epoll while its fd number
     * still names the socket: epoll keys a registration on the file, and
     * one left behind would outlive the dup2() below. */
    bufferevent_disable(old, EV_READ | EV_WRITE);
    int r = -1;
    if (nfd >= 0 && event_assign(&ws->ev, base, nfd, EV_READ | EV_PERSIST, ws_on_io, ws) == 0 &&
        event_add(&ws->ev, NULL) == 0) {
        while ((r = dup2(ws_placeholder_fd, fd)) < 0 && errno == EINTR)
            ;
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
    ws_parked[ws_n_parked++] = evcon;
    evhttp_connection_set_closecb(evcon, ws_parked_freed, NULL);
    event_active(ws_release_ev, 0, 0);
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
    struct ws_dirty *d;
    if (!ws->out && !ws->blocked && !ws->dirty && (d = ws_dirty_add(ws))) {
        d->frame = frame;
        d->len = len;
        d->release = release;
        d->arg = arg;
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
     * still runs: the connection stays on the dirty list. */
    evbuffer_write(ws->out, ws_fd(ws));
}

size_t ws_conn_pending(const struct ws_conn *ws)
{
    const struct ws_dirty *d = ws_dirty_of(ws);
    return (ws->out ? evbuffer_get_length(ws->out) : 0) + (d && d->frame ? d->len : 0);
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
    ws_release_parked(-1, 0, NULL);
    free(ws_parked);
    ws_parked = NULL;
    ws_cap_parked = 0;
    if (ws_release_ev)
        event_free(ws_release_ev);
    ws_release_ev = NULL;
    if (ws_flush_ev)
        event_free(ws_flush_ev);
    ws_flush_ev = NULL;
    free(ws_dirty);
    ws_dirty = NULL;
    ws_n_dirty = ws_cap_dirty = 0;
    if (ws_placeholder_fd >= 0)
        close(ws_placeholder_fd);
    ws_placeholder_fd = -1;
}
