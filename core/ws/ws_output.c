/* A WebSocket's output and life (see ws_output.h): frames queued by
 * reference and written once per loop turn, the closing handshake and its
 * lingering, and freeing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/socket.h>
#include "ws/ws_frame.h"
#include "ws/ws_output.h"

static struct ws_conn *ws_all;
static size_t ws_live;

evutil_socket_t ws_fd(const struct ws_conn *ws)
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
static struct ws_dirty *ws_dirty;
static size_t ws_n_dirty, ws_cap_dirty;
static struct event *ws_flush_ev;

void ws_link(struct ws_conn *ws)
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

struct ws_dirty *ws_dirty_of(const struct ws_conn *ws)
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
struct ws_dirty *ws_dirty_add(struct ws_conn *ws)
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
int ws_take_pending(struct ws_conn *ws)
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

/* Output was queued in ws->out: write it at the end of this loop turn (or
 * when the socket is writable, if the list cannot grow). */
void ws_mark_dirty(struct ws_conn *ws)
{
    if (ws->dirty || ws->blocked)
        return;
    if (!ws_dirty_add(ws))
        ws_arm(ws, 1);
}

void ws_destroy(struct ws_conn *ws)
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
void ws_notify_close(struct ws_conn *ws, unsigned code, const char *why)
{
    if (!ws->owned)
        return;
    ws->owned = 0;
    if (ws->cb->on_close)
        ws->cb->on_close(ws->userdata, code, why);
}

/* The output buffer, with the frame held on the list moved in first. */
struct evbuffer *ws_out(struct ws_conn *ws)
{
    if (!ws->out)
        ws->out = evbuffer_new();
    if (!ws->out || ws_take_pending(ws) != 0)
        return NULL;
    return ws->out;
}

int ws_write_frame(struct ws_conn *ws, int opcode, const void *data, size_t len)
{
    uint8_t hdr[WS_FRAME_HEADER_MAX];
    size_t hl = ws_frame_encode_header(hdr, opcode, len);
    struct evbuffer *out = ws_out(ws);
    if (!out || evbuffer_add(out, hdr, hl) != 0 || (len && evbuffer_add(out, data, len) != 0))
        return -1;
    ws_mark_dirty(ws);
    return 0;
}

int ws_io_retriable(void)
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
int ws_write_out(struct ws_conn *ws)
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
void ws_finish(struct ws_conn *ws, unsigned code, const char *reason)
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

void ws_fail(struct ws_conn *ws, unsigned code, const char *why)
{
    ws_notify_close(ws, code, why);
    ws_finish(ws, code, why);
}

int ws_arm(struct ws_conn *ws, int want_write)
{
    struct event_base *base = event_get_base(&ws->ev);
    /* The callback ws_conn_takeover gave the event (ws_input.c's). */
    event_callback_fn io = event_get_callback(&ws->ev);
    struct timeval tv = {WS_LINGER_SECONDS, 0};
    event_del(&ws->ev);
    ws->blocked = want_write ? 1 : 0;
    if (want_write) { /* EV_WRITE takes it from here */
        ws_take_pending(ws);
        ws_dirty_drop(ws);
    }
    if (event_assign(&ws->ev, base, ws_fd(ws), EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0), io, ws) != 0 ||
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

int ws_output_init(struct event_base *base)
{
    if (!ws_flush_ev && !(ws_flush_ev = event_new(base, -1, 0, ws_flush_all, NULL)))
        return -1;
    return 0;
}

size_t ws_output_count(void)
{
    return ws_live;
}

void ws_output_free_all(void)
{
    while (ws_all) {
        struct ws_conn *ws = ws_all;
        ws->in_read = 0;
        ws_notify_close(ws, WS_CLOSE_GOING_AWAY, "server shutting down");
        ws_destroy(ws);
    }
    if (ws_flush_ev)
        event_free(ws_flush_ev);
    ws_flush_ev = NULL;
    free(ws_dirty);
    ws_dirty = NULL;
    ws_n_dirty = ws_cap_dirty = 0;
}
