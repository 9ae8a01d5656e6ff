/* The WebSocket output of one loop turn (private to core/ws): the
 * connections to write at the end of the turn, in the order their output
 * was queued, and the frames each was given by reference while it had no
 * output buffer of its own.  Everything a turn sends to a connection then
 * goes out in one writev() straight from the shared buffers, with no
 * evbuffer, no allocation and no copy per frame: the frames of every
 * connection live in one array, reused turn after turn, each linked to its
 * connection's next.  Data only: ws_output.c writes, and calls this. */
#ifndef SBR_WS_TURN_H
#define SBR_WS_TURN_H

#include <stddef.h>
#include <sys/uio.h>
#include <event2/event.h>

struct ws_conn;
struct evbuffer;

/* A frame by reference: release(data, len, arg) once it is written or
 * dropped. */
struct ws_turn_frame {
    const void *data;
    size_t len;
    void (*release)(const void *data, size_t len, void *arg);
    void *arg;
};

/* The turn's writer, flush, runs once after the loop's other ready
 * callbacks (at its lowest priority: see event_base_priority_init in
 * daemon.c) whenever a connection was put on the list, and within a
 * millisecond however busy the loop stays.  0 or -1. */
int ws_turn_init(struct event_base *base, event_callback_fn flush);
/* Forget the list (at exit, every connection freed first). */
void ws_turn_free(void);

/* Put ws on the list (once); -1 when the list cannot grow. */
int ws_turn_mark(struct ws_conn *ws);
/* Put ws on the list and hold f for it, after what it holds already; -1
 * when memory runs out (f is then neither held nor released). */
int ws_turn_hold(struct ws_conn *ws, const struct ws_turn_frame *f);
/* Bytes of the frames held for ws. */
size_t ws_turn_held_bytes(const struct ws_conn *ws);
/* Move the frames held for ws into out by reference, in order; -1 when
 * out cannot grow (the frames not moved are released). */
int ws_turn_take(struct ws_conn *ws, struct evbuffer *out);
/* Take ws off the list, releasing what it holds. */
void ws_turn_drop(struct ws_conn *ws);

/* The writer's walk: the next connection on the list, taken off it (its
 * held frames stay with it until written, taken or dropped), or NULL at
 * the end, where the list is emptied for the next turn.  Connections put
 * on the list meanwhile are walked too. */
struct ws_conn *ws_turn_next(void);
/* Up to max iovecs over the frames held for ws, in order; their count. */
size_t ws_turn_iov(const struct ws_conn *ws, struct iovec *iov, size_t max);
/* n bytes of them were written: release the frames written whole, and
 * keep the rest of a frame written in part. */
void ws_turn_written(struct ws_conn *ws, size_t n);

#endif
