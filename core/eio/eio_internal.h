/* What the Engine.IO session table and its transports share (private to core/eio). */
#ifndef SBR_EIO_INTERNAL_H
#define SBR_EIO_INTERNAL_H

#include <event2/http.h>
#include "hashtab.h"
#include "util/worker_id.h"
#include "eio/eio_session.h"

enum eio_transport { EIO_TRANSPORT_POLLING, EIO_TRANSPORT_WEBSOCKET };

/* A sid is this worker's id (util/worker_id.h) then 16 random bytes in
 * base64url: another worker can tell whose session it is. */
#define EIO_SID_LEN (WORKER_ID_LEN + 22)

struct eio_session {
    char sid[EIO_SID_LEN + 1];
    /* The flags come first: they fill the bytes alignment leaves after sid
     * (one session per connection, so its size counts). */
    unsigned transport : 1;     /* enum eio_transport */
    unsigned closed : 1;        /* on_close was called; waiting to be freed */
    unsigned closing : 1;       /* polling: close packet waits for the next GET */
    unsigned close_queued : 1;  /* closing: the close packet is in the queue */
    unsigned awaiting_pong : 1;
    unsigned probe_ready : 1;   /* the probe answered 3probe; waiting for 5 */
    uint8_t timer_list;         /* 1 + the eio_timer list we are on, or 0 */
    uint16_t n_query, n_headers; /* pairs in meta (bounded by the header size limit) */
    struct hashtab_node node;   /* in eio_server.sessions, keyed by sid */
    struct ws_conn *ws;         /* the WebSocket transport */
    struct ws_conn *probe;      /* a WebSocket being upgraded to */
    struct evhttp_request *poll;/* the pending polling GET */
    struct eio_buf **queue;     /* polling: packets waiting for a GET */
    size_t queue_len, queue_cap, queue_bytes;
    /* The timer (eio_timer.h): heartbeat, ping timeout or polling close
     * grace, due at `deadline` (monotonic ms). */
    uint64_t deadline;
    struct eio_session *tprev, *tnext;
    void *owner;
    char *meta;                 /* address, then query pairs, then header pairs */
    struct eio_session *reap_next;
};

struct eio_server {
    struct event_base *base;
    const struct eio_handler *handler;
    struct hashtab sessions;    /* open sessions (closed ones leave at once) */
    struct eio_session *reap;   /* closed sessions, freed from reap_event */
    struct event *reap_event;
};

extern struct eio_server eio_server;

struct eio_session *eio_session_find(const char *sid);
struct eio_session *eio_session_create(struct evhttp_request *req, int transport);
/* A packet arrived on the active transport (or the probe). */
void eio_session_on_packet(struct eio_session *s, int type, const uint8_t *data, size_t len, int binary);
/* Close with a reason: on_close now, transports and memory later. */
void eio_session_terminate(struct eio_session *s, const char *reason);
/* 1 (after closing the session) if its ping timeout has passed, even if
 * the timer has not run yet on a busy loop. */
int eio_session_expired(struct eio_session *s);
/* Start or restart the heartbeat. */
void eio_session_heartbeat_start(struct eio_session *s);
/* 1 if a polling GET is pending. */
#define eio_poll_pending(s) ((s)->poll != NULL)
/* eio_server_init's and eio_server_free's part: the session table and its
 * timers.  0 or -1. */
int eio_sessions_init(struct event_base *base, const struct eio_handler *handler);
void eio_sessions_free(void);

#endif
