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
#include "ws/ws_turn.h"
#include "metrics.h"

static struct ws_conn *ws_all;
static size_t ws_live;

evutil_socket_t ws_fd(const struct ws_conn *ws)
{
    return event_get_fd(&ws->ev);
}

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

/* Move the frames held for ws this turn into its output buffer, where they
 * go first: they were queued before anything else.  -1: out of memory, and
 * the frames were dropped. */
int ws_take_pending(struct ws_conn *ws)
{
    if (!ws_turn_held_bytes(ws))
        return 0;
    if (!ws->out)
        ws->out = evbuffer_new();
    return ws_turn_take(ws, ws->out);
}

/* Output was queued in ws->out: write it at the end of this loop turn (or
 * when the socket is writable, if the list cannot grow). */
void ws_mark_dirty(struct ws_conn *ws)
{
    if (ws->dirty || ws->blocked)
        return;
    if (ws_turn_mark(ws) != 0)
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
    ws_turn_drop(ws);
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

/* One write of the output buffer (a writev() of its chains). */
static int ws_write_buffer(struct ws_conn *ws)
{
    core_metrics.ws_writes++;
    return evbuffer_write(ws->out, ws_fd(ws));
}

/* Write what is queued; on a full socket, wait for EV_WRITE.  -1: ws was
 * freed. */
int ws_write_out(struct ws_conn *ws)
{
    if (ws->out && evbuffer_get_length(ws->out) && ws_write_buffer(ws) < 0 && !ws_io_retriable()) {
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
        ws_turn_drop(ws);
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

/* Frames a writev() takes at most (IOV_MAX on Linux): a connection given
 * more in one turn is written in several calls. */
#define WS_IOV_MAX 1024
static struct iovec ws_iov[WS_IOV_MAX];

/* Write the frames held for ws this turn straight from their shared
 * buffers; what the socket does not take moves to ws->out, to be written
 * when the socket is writable.  -1: ws was freed. */
static int ws_write_held(struct ws_conn *ws)
{
    size_t n;
    while ((n = ws_turn_iov(ws, ws_iov, WS_IOV_MAX)) > 0) {
        size_t want = 0;
        for (size_t i = 0; i < n; i++)
            want += ws_iov[i].iov_len;
        struct msghdr msg = {.msg_iov = ws_iov, .msg_iovlen = n};
        ssize_t w = sendmsg(ws_fd(ws), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        core_metrics.ws_writes++;
        if (w < 0 && !ws_io_retriable()) {
            ws_notify_close(ws, 1006, "connection error");
            ws_destroy(ws); /* releases what is still held */
            return -1;
        }
        ws_turn_written(ws, w > 0 ? (size_t)w : 0);
        if (w < (ssize_t)want)
            break;
    }
    if (!ws_turn_held_bytes(ws))
        return 0;
    if (ws_take_pending(ws) != 0) {
        ws_notify_close(ws, 1006, "out of memory");
        ws_destroy(ws);
        return -1;
    }
    return ws_write_out(ws); /* waits for EV_WRITE */
}

static void ws_flush_all(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* Writing may close a connection, whose owner may queue output to
     * others: the list can grow while it is walked. */
    struct ws_conn *ws;
    while ((ws = ws_turn_next())) {
        if (ws_turn_held_bytes(ws) && !ws->out)
            ws_write_held(ws);
        else
            ws_write_out(ws);
    }
}

int ws_output_init(struct event_base *base)
{
    return ws_turn_init(base, ws_flush_all);
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
    ws_turn_free();
}
