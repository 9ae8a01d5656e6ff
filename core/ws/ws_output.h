/* A WebSocket connection's state, output and life (private to core/ws):
 * what struct ws_conn holds, writing what a loop turn queued (the frames
 * held by reference in ws_turn.c, in one writev() per connection, or its
 * output buffer), the closing handshake and lingering, freeing.  The bottom
 * of the connection above ws_turn.c: ws_input.c and ws_conn.c call it, it
 * calls neither. */
#ifndef SBR_WS_OUTPUT_H
#define SBR_WS_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include "ws/ws_conn.h"
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
    uint32_t dirty;           /* 1 + our place on the turn's list (ws_turn.c), or 0 */
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

/* The loop's end-of-turn writer; 0 or -1. */
int ws_output_init(struct event_base *base);
size_t ws_output_count(void);
/* Every connection's owner is told, every connection freed (at exit). */
void ws_output_free_all(void);

evutil_socket_t ws_fd(const struct ws_conn *ws);
/* Count ws among the connections alive. */
void ws_link(struct ws_conn *ws);
/* Move the frames held for ws this turn (ws_turn.h) into its output
 * buffer; -1: out of memory, and the frames not moved were dropped. */
int ws_take_pending(struct ws_conn *ws);
/* Output was queued in ws->out: write it at the end of this loop turn. */
void ws_mark_dirty(struct ws_conn *ws);
/* Free ws (later, when inside its read). */
void ws_destroy(struct ws_conn *ws);
/* Tell the owner, once, that the connection is over. */
void ws_notify_close(struct ws_conn *ws, unsigned code, const char *why);
/* The output buffer, with the frame held on the list moved in first. */
struct evbuffer *ws_out(struct ws_conn *ws);
/* Queue a frame (copied). */
int ws_write_frame(struct ws_conn *ws, int opcode, const void *data, size_t len);
/* 1 if the last socket error only means "not now" (EAGAIN, EINTR). */
int ws_io_retriable(void);
/* Write what can be written; 0, or -1 when ws was freed. */
int ws_write_out(struct ws_conn *ws);
/* Start (or answer) the closing handshake and free ws once it is done. */
void ws_finish(struct ws_conn *ws, unsigned code, const char *reason);
/* A protocol error: tell the owner, then close with code. */
void ws_fail(struct ws_conn *ws, unsigned code, const char *why);
/* (Re)register the socket with the event's own callback: read always,
 * write only while blocked; while lingering, a timeout bounds the wait for
 * the peer's close.  0 or -1. */
int ws_arm(struct ws_conn *ws, int want_write);

#endif
