/* The polling side of a session: the queue of packets waiting for the
 * client's next GET, and that GET's answer.  It ends no session itself: a
 * flush that delivered the close packet of a closing session says so, and
 * its caller ends it. */
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "metrics.h"
#include "util/base64.h"
#include "eio/eio_internal.h"
#include "eio/eio_polling.h"
#include "eio/eio_relay.h"

/* Append to the polling queue (the queue takes the caller's reference). */
int eio_polling_push(struct eio_session *s, struct eio_buf *b)
{
    if (s->queue_len == s->queue_cap) {
        size_t cap = s->queue_cap ? s->queue_cap * 2 : 4;
        struct eio_buf **q = realloc(s->queue, cap * sizeof(*q));
        if (!q)
            return -1;
        s->queue = q;
        s->queue_cap = cap;
    }
    s->queue[s->queue_len++] = b;
    s->queue_bytes += b->binary ? BASE64_ENCODED_LEN(b->len) + 2 : b->len + 1;
    return 0;
}

void eio_polling_queue_close(struct eio_session *s)
{
    struct eio_buf *b = eio_buf_new("1", 1, 0);
    if (b && eio_polling_push(s, b) != 0)
        eio_buf_unref(b);
    else if (b)
        s->close_queued = 1;
}

/* Send a polling answer to the pending GET. */
static void answer_poll(struct eio_session *s, struct evbuffer *body)
{
    struct evhttp_request *req = s->poll;
    s->poll = NULL;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL, NULL);
    eio_reply_text(req, body);
}

/* One queued packet as it appears in a polling answer: text as is, binary
 * as "b" and base64. */
static size_t poll_packet_size(const struct eio_buf *b)
{
    return b->binary ? 1 + BASE64_ENCODED_LEN(b->len) : b->len;
}

/* Write the queue, packets joined by \x1e, into out (poll_packet_size of
 * each plus the separators, and one byte more).  Returns 1 if it holds the
 * close packet. */
static int poll_write_queue(const struct eio_session *s, char *out)
{
    int closing = 0;
    for (size_t i = 0; i < s->queue_len; i++) {
        struct eio_buf *b = s->queue[i];
        if (i)
            *out++ = '\x1e';
        if (b->binary) {
            /* The encoder's NUL lands on the next separator, or on the byte
             * reserved past the answer. */
            *out++ = 'b';
            out += base64_encode((const uint8_t *)eio_buf_data(b), b->len, out, 0);
        } else {
            if (b->len == 1 && eio_buf_data(b)[0] == '1')
                closing = 1;
            memcpy(out, eio_buf_data(b), b->len);
            out += b->len;
        }
    }
    return closing;
}

/* The answer is one contiguous copy of the queue: its memory is the size of
 * the payload.  (Referencing each shared packet costs an evbuffer chain per
 * packet and per separator, about 2 KB of heap for a 100-byte packet, which
 * many sessions flushing thousands of small packets at once multiply.) */
int eio_polling_flush(struct eio_session *s, int noop_if_empty)
{
    if (!eio_poll_pending(s) || (s->queue_len == 0 && !noop_if_empty))
        return 0;
    size_t total = s->queue_len ? s->queue_len - 1 : 1;
    for (size_t i = 0; i < s->queue_len; i++)
        total += poll_packet_size(s->queue[i]);
    struct evbuffer *body = evbuffer_new();
    struct evbuffer_iovec v;
    if (!body || evbuffer_reserve_space(body, (ev_ssize_t)total + 1, &v, 1) < 1) {
        if (body)
            evbuffer_free(body);
        return 0;
    }
    int closing = 0;
    if (s->queue_len)
        closing = poll_write_queue(s, v.iov_base);
    else
        memcpy(v.iov_base, "6", 1);
    v.iov_len = total;
    evbuffer_commit_space(body, &v, 1);
    for (size_t i = 0; i < s->queue_len; i++)
        eio_buf_unref(s->queue[i]);
    core_metrics.bytes_out += total;
    s->queue_len = 0;
    s->queue_bytes = 0;
    answer_poll(s, body);
    evbuffer_free(body);
    if (closing && s->closing)
        return 1; /* the client has its close packet: the caller ends the session */
    if (s->closing && !s->close_queued)
        eio_polling_queue_close(s); /* for the next GET, alone */
    return 0;
}

/* Answer the pending GET with a noop, leaving the queue alone (upgrade). */
void eio_polling_noop(struct eio_session *s)
{
    if (!eio_poll_pending(s))
        return;
    struct evbuffer *body = evbuffer_new();
    if (!body)
        return;
    evbuffer_add(body, "6", 1);
    answer_poll(s, body);
    evbuffer_free(body);
}

