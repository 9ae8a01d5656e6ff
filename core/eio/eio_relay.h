/* Serving another worker's sessions (private to core/eio): what the
 * relaying files share.  From the bottom up: eio_pool.c (idle connections
 * per peer), eio_peers.c (the worker registry), eio_reply.c (Engine.IO's
 * answers), eio_relay.c (a polling request replayed to its owner),
 * eio_tunnel.c (a WebSocket piped to its owner), eio_forward.c (a request
 * from its arrival until one of those takes it), eio_worker_server.c (the
 * worker address).  Each calls only files listed before it. */
#ifndef SBR_EIO_RELAY_H
#define SBR_EIO_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/http.h>
#include "util/worker_id.h"

/* --- eio_pool.c: keep-alive connections to one peer ---------------------- */

/* Idle connections kept per peer, and for how long: well within the
 * owner's own keep-alive timeout (evhttp's 50 s), so the owner never closes
 * one just as it is reused. */
#define EIO_POOL_MAX 16
#define EIO_POOL_IDLE_MS 10000

struct eio_pool {
    struct {
        struct evhttp_connection *evcon;
        uint64_t since;              /* idle since (monotonic ms) */
    } idle[EIO_POOL_MAX];            /* oldest first */
    size_t n_idle;
};

/* An idle connection (the most recently used), or NULL. */
struct evhttp_connection *eio_pool_take(struct eio_pool *pool);
/* A connection whose request was answered: keep it, or close it when full. */
void eio_pool_put(struct eio_pool *pool, struct evhttp_connection *evcon);
/* Close the connections idle for longer than EIO_POOL_IDLE_MS. */
void eio_pool_sweep(struct eio_pool *pool, uint64_t now);
void eio_pool_clear(struct eio_pool *pool);
/* A new connection to addr (counted on /metrics), or NULL. */
struct evhttp_connection *eio_pool_connect(struct event_base *base, const struct sockaddr_storage *addr);

/* --- eio_peers.c: the worker registry ------------------------------------- */

struct eio_peer {
    char id[WORKER_ID_LEN + 1];
    struct sockaddr_storage addr;
    int addr_len;
    char text[128];                  /* addr as text, for the Host header */
    struct eio_pool pool;
    struct eio_peer *next;
};

/* A lookup ended: the peer of `id` is known now, or not (eio_peers_find). */
typedef void (*eio_peers_looked_up)(const char *id);

/* Start advertising this worker's `address` under its id, with a TTL kept
 * refreshed, and answer lookups with `done`.  0 or -1. */
int eio_peers_start(struct event_base *base, const char *address, eio_peers_looked_up done);
void eio_peers_free(void);
/* The cached address of worker `id` (WORKER_ID_LEN characters), or NULL. */
struct eio_peer *eio_peers_find(const char *id);
/* The worker stopped answering: drop its address and connections. */
void eio_peers_forget(const char *id);
/* Read worker `id`'s address from the shared state (one read per id at a
 * time); `done` follows from the loop, found or not. */
void eio_peers_lookup(const char *id);

/* --- eio_reply.c: Engine.IO's answers over HTTP --------------------------- */

/* Engine.IO error codes (engine.io Server.errors). */
enum {
    EIO_ERR_UNKNOWN_TRANSPORT = 0,
    EIO_ERR_UNKNOWN_SID = 1,
    EIO_ERR_BAD_HANDSHAKE_METHOD = 2,
    EIO_ERR_BAD_REQUEST = 3,
    EIO_ERR_FORBIDDEN = 4,
    EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION = 5
};

/* Engine.IO's own error answer: status {"code": N, "message": "..."}. */
void eio_reply_error(struct evhttp_request *req, int status, int code, const char *message);
/* 200 with a text body (a polling answer, "ok"). */
void eio_reply_text(struct evhttp_request *req, struct evbuffer *body);
/* 400 "Session ID unknown". */
void eio_reply_unknown_sid(struct evhttp_request *req);
/* The JSON of that answer, for a raw HTTP answer. */
extern const char eio_unknown_sid_json[];

/* --- eio_forward.c, eio_relay.c: a request for another worker's session ---- */

enum eio_forward_state {
    FORWARD_LOOKUP,   /* waiting for the owner's address */
    FORWARD_RETRY,    /* not found yet: looked up again soon */
    FORWARD_READY,    /* the address is known: relay on the next wake */
    FORWARD_UNKNOWN,  /* no owner: answer "Session ID unknown" on the next wake */
    FORWARD_SENT,     /* polling: replayed, waiting for the owner's answer */
    FORWARD_DONE      /* over: freed on the next wake */
};

struct eio_forward {
    struct evhttp_request *req;       /* NULL once the client left */
    struct evhttp_connection *client;
    char owner[WORKER_ID_LEN + 1];
    int state;                        /* enum eio_forward_state */
    int lookups;                      /* lookups made that found no address */
    int websocket;
    struct evhttp_connection *out;    /* polling: our connection to the owner */
    struct evhttp_request *out_req;   /* ours (evhttp_request_own): freed with the forward */
    int out_reusable;                 /* answered by the owner: back to the pool */
    struct event *wake;               /* eio_forward.c's: acts on state changes */
    struct eio_forward *prev, *next;
};

/* eio_relay.c: replay f's polling request to peer p; the answer, or the
 * failure, reaches the client from poll's own callback, f->state becomes
 * FORWARD_DONE (or FORWARD_UNKNOWN) and f->wake is activated. */
void eio_relay_poll(struct eio_forward *f, struct eio_peer *p, struct event_base *base);

/* --- eio_tunnel.c: a WebSocket upgrade piped to its owner ---------------- */

/* Take the client's connection over (its upgrade request parked on it),
 * replay the request to addr and pipe the bytes both ways until one side
 * ends.  0, or -1 when nothing was taken over (the caller answers). */
int eio_tunnel_start(struct event_base *base, struct evhttp_request *req, const struct sockaddr_storage *addr,
                     int addr_len);
void eio_tunnels_free(void);

#endif
