/* Any worker serves any Engine.IO session, without sticky sessions.
 *
 * A sid starts with its owner's worker id.  Besides its public listeners,
 * each worker listens on a worker address of its own (`worker_listen`,
 * loopback and an ephemeral port by default) that serves only /socket.io/
 * and never forwards, and it advertises that address in the shared state
 * under "eio:worker:<id>" with a TTL it keeps refreshing.  A request naming
 * a session of another worker is carried there directly:
 *   - a polling GET or POST is replayed as an HTTP request to the owner, and
 *     the owner's own answer (status and body) goes back to the client, so a
 *     POST is acknowledged only by the session that took it, and a GET is
 *     held exactly as long as the owner holds it;
 *   - a WebSocket upgrade takes the client's connection over before
 *     answering, replays the upgrade request to the owner, then relays the
 *     raw bytes both ways: the owner answers the 101 and runs the WebSocket.
 * The worker address only ever sees requests a worker relayed (plus what a
 * local user could send to the public port anyway), and it never forwards
 * again, so a forwarded request cannot loop.  An unknown or forged worker id
 * has no address: the answer is "Session ID unknown", as it is when the
 * owner is gone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include "bus.h"
#include "clock.h"
#include "conf/conf.h"
#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "net/listener.h"
#include "settings.h"
#include "eio/eio_internal.h"

#define WORKER_KEY_PREFIX "eio:worker:"
/* The advertised address lives this long unless refreshed; it is refreshed
 * every WORKER_REFRESH_MS, and retried every WORKER_RETRY_MS until the
 * shared state first accepts it. */
#define WORKER_TTL_MS 15000
#define WORKER_REFRESH_MS 5000
#define WORKER_RETRY_MS 200
/* A worker that just started may not have advertised its address yet when
 * its first sessions come back through another worker: an id with no
 * address is looked up again this many times, WORKER_RETRY_MS apart, before
 * the session counts as unknown. */
#define LOOKUP_ATTEMPTS 5
/* Worker addresses remembered; a worker id names one process for its whole
 * life, so an entry is only dropped when its worker stops answering. */
#define PEER_CACHE_MAX 256
/* Idle keep-alive connections kept per owner for relayed polls, and for how
 * long: well within the owner's own keep-alive timeout (evhttp's 50 s), so
 * the owner never closes one just as it is reused. */
#define POOL_MAX 16
#define POOL_IDLE_MS 10000
/* A relayed WebSocket stops reading one side while this much waits for the
 * other, and a closing tunnel gets this long to flush. */
#define TUNNEL_BUFFER_MAX (1024 * 1024)
#define TUNNEL_FLUSH_SECONDS 5

static const char unknown_sid[] = "{\"code\":1,\"message\":\"Session ID unknown\"}";

/* --- worker addresses ---------------------------------------------------- */

struct pooled {
    struct evhttp_connection *evcon;
    uint64_t since;                   /* idle since (monotonic ms) */
};

struct peer {
    char id[EIO_WORKER_ID_LEN + 1];
    struct sockaddr_storage addr;
    int addr_len;
    char text[128];
    struct pooled idle[POOL_MAX];     /* keep-alive connections to reuse, oldest first */
    size_t n_idle;
    struct peer *next;
};

static struct peer *peers;
static size_t n_peers;

static struct peer *peer_find(const char *id)
{
    for (struct peer *p = peers; p; p = p->next)
        if (memcmp(p->id, id, EIO_WORKER_ID_LEN) == 0)
            return p;
    return NULL;
}

static void peer_free(struct peer *p)
{
    for (size_t i = 0; i < p->n_idle; i++)
        evhttp_connection_free(p->idle[i].evcon);
    free(p);
}

/* Close the connections idle for longer than POOL_IDLE_MS. */
static void peer_pool_sweep(struct peer *p, uint64_t now)
{
    size_t keep = 0;
    for (size_t i = 0; i < p->n_idle; i++) {
        if (now - p->idle[i].since > POOL_IDLE_MS)
            evhttp_connection_free(p->idle[i].evcon);
        else
            p->idle[keep++] = p->idle[i];
    }
    p->n_idle = keep;
}

/* An idle connection to p (the most recently used), or NULL. */
static struct evhttp_connection *peer_pool_take(struct peer *p)
{
    peer_pool_sweep(p, clock_monotonic_ms());
    return p->n_idle ? p->idle[--p->n_idle].evcon : NULL;
}

/* A connection whose request was answered: keep it for the next relay to
 * the same owner, or close it. */
static void peer_pool_put(const char *id, struct evhttp_connection *evcon)
{
    struct peer *p = peer_find(id);
    if (!p || p->n_idle == POOL_MAX) {
        evhttp_connection_free(evcon);
        return;
    }
    p->idle[p->n_idle++] = (struct pooled){evcon, clock_monotonic_ms()};
}

static void peer_forget(const char *id)
{
    for (struct peer **pp = &peers; *pp; pp = &(*pp)->next) {
        if (memcmp((*pp)->id, id, EIO_WORKER_ID_LEN) == 0) {
            struct peer *p = *pp;
            *pp = p->next;
            peer_free(p);
            n_peers--;
            return;
        }
    }
}

static void peer_remember(const char *id, const char *address, size_t len)
{
    char text[128];
    if (len >= sizeof(text))
        return;
    memcpy(text, address, len);
    text[len] = '\0';
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    if (evutil_parse_sockaddr_port(text, (struct sockaddr *)&ss, &sl) != 0)
        return;
    peer_forget(id);
    if (n_peers >= PEER_CACHE_MAX) {
        /* Drop the oldest (the tail): it is looked up again if needed. */
        struct peer **pp = &peers;
        while ((*pp)->next)
            pp = &(*pp)->next;
        peer_free(*pp);
        *pp = NULL;
        n_peers--;
    }
    struct peer *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    memcpy(p->id, id, EIO_WORKER_ID_LEN);
    memcpy(&p->addr, &ss, (size_t)sl);
    p->addr_len = sl;
    snprintf(p->text, sizeof(p->text), "%s", text);
    p->next = peers;
    peers = p;
    n_peers++;
}

/* --- forwarded requests -------------------------------------------------- */

enum forward_state { FORWARD_LOOKUP, FORWARD_RETRY, FORWARD_READY, FORWARD_UNKNOWN, FORWARD_SENT, FORWARD_DONE };

/* A client request for another worker's session, from its arrival until
 * the owner's answer is relayed (or it becomes a tunnel). */
struct forward {
    struct evhttp_request *req;       /* NULL once the client left */
    struct evhttp_connection *client;
    char owner[EIO_WORKER_ID_LEN + 1];
    int state;
    int lookups;                      /* lookups made that found no address */
    int websocket;
    struct evhttp_connection *out;    /* polling: our connection to the owner */
    struct evhttp_request *out_req;   /* ours (evhttp_request_own) once answered */
    int out_answered;
    int out_reusable;                 /* answered by the owner: back to the pool */
    struct forward *prev, *next;
};

/* A relayed WebSocket connection: client <-> owner's worker address. */
struct tunnel {
    struct evhttp_connection *evcon;  /* the client's, kept idle (see ws_conn.h) */
    struct bufferevent *client, *owner;
    size_t from_owner;                /* bytes the owner sent so far */
    int closing;
    struct tunnel *prev, *next;
};

/* A kv lookup in flight for one worker id (one per id at a time). */
struct lookup {
    char id[EIO_WORKER_ID_LEN + 1];
    struct lookup *next;
};

static struct forward *forwards;
static struct tunnel *tunnels;
static struct lookup *lookups;
static struct event *wake_event;      /* runs forwards whose lookup ended */
static struct event *retry_timer;     /* looks up again for FORWARD_RETRY */
static struct event *register_timer;
static int registered;
static int serving_peer;              /* inside a request of the worker address */
static struct evhttp *peer_http;
static struct evhttp_bound_socket *peer_bound;
static char advertised[128];

static void forward_unlink(struct forward *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        forwards = f->next;
    if (f->next)
        f->next->prev = f->prev;
}

/* Free a forward; never from inside a callback of its own connection to
 * the owner (the caller defers through wake_event). */
static void forward_free(struct forward *f)
{
    forward_unlink(f);
    if (f->req)
        evhttp_connection_set_closecb(f->client, NULL, NULL);
    /* The connection frees a request still queued on it; an answered one
     * left the queue and is ours. */
    if (f->out && f->out_reusable)
        peer_pool_put(f->owner, f->out);
    else if (f->out)
        evhttp_connection_free(f->out);
    if (f->out_req && f->out_answered)
        evhttp_request_free(f->out_req);
    free(f);
}

static void forward_finish(struct forward *f)
{
    if (f->req) {
        evhttp_connection_set_closecb(f->client, NULL, NULL);
        f->req = NULL;
    }
    f->state = FORWARD_DONE;
    event_active(wake_event, EV_TIMEOUT, 1);
}

static void forward_client_gone(struct evhttp_connection *evcon, void *arg)
{
    struct forward *f = arg;
    (void)evcon;
    /* evhttp frees the request with its connection. */
    f->req = NULL;
    f->state = FORWARD_DONE;
    event_active(wake_event, EV_TIMEOUT, 1);
}

static void reply_unknown(struct evhttp_request *req)
{
    eio_reply_error(req, 400, 1, "Session ID unknown");
}

/* --- polling: replay the request to the owner ---------------------------- */

static void poll_done(struct evhttp_request *out_req, void *arg)
{
    struct forward *f = arg;
    f->out_answered = 1;
    if (f->state != FORWARD_SENT)
        return;
    int status = out_req ? evhttp_request_get_response_code(out_req) : 0;
    struct evhttp_request *req = f->req;
    if (req) {
        evhttp_connection_set_closecb(f->client, NULL, NULL);
        f->req = NULL;
    }
    f->state = FORWARD_DONE;
    f->out_reusable = status != 0;
    event_active(wake_event, EV_TIMEOUT, 1);
    if (status == 0) {
        /* The owner is unreachable or kept silent past every heartbeat:
         * it is gone, and its sessions with it. */
        core_metrics.eio_forward_failures++;
        log_debug("eio", "worker %s did not answer a forwarded request", f->owner);
        peer_forget(f->owner);
        if (req)
            reply_unknown(req);
        return;
    }
    if (!req)
        return;
    struct evbuffer *body = evhttp_request_get_input_buffer(out_req);
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(out_req), "Content-Type");
    http_cors_apply(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      type ? type : "text/plain; charset=UTF-8");
    const char *reason = evhttp_request_get_response_code_line(out_req);
    evhttp_send_reply(req, status, reason && *reason ? reason : "OK", body);
}

/* A new connection to p's worker address. */
static struct evhttp_connection *peer_connect(const struct peer *p)
{
    char host[64];
    int port;
    if (p->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
        evutil_inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
        evutil_inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    struct evhttp_connection *evcon = evhttp_connection_base_new(eio_server.base, NULL, host, (ev_uint16_t)port);
    if (evcon)
        core_metrics.eio_forward_connections++;
    return evcon;
}

static void poll_send(struct forward *f, struct peer *p)
{
    const struct core_settings *st = settings_get();
    f->out = peer_pool_take(p);
    if (!f->out)
        f->out = peer_connect(p);
    struct evhttp_request *out_req = f->out ? evhttp_request_new(poll_done, f) : NULL;
    if (out_req)
        evhttp_request_own(out_req); /* its body is read in poll_done, freed with f */
    if (!out_req) {
        f->state = FORWARD_UNKNOWN;
        event_active(wake_event, EV_TIMEOUT, 1);
        return;
    }
    /* The owner holds a GET at most one ping interval; past that and the
     * ping timeout, it is not coming back. */
    uint64_t ms = st->ping_interval_ms + st->ping_timeout_ms + 1000;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evhttp_connection_set_timeout_tv(f->out, &tv);
    struct evkeyvalq *out_headers = evhttp_request_get_output_headers(out_req);
    evhttp_add_header(out_headers, "Host", p->text);
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(f->req), "Content-Type");
    if (type)
        evhttp_add_header(out_headers, "Content-Type", type);
    enum evhttp_cmd_type method = evhttp_request_get_command(f->req);
    if (method == EVHTTP_REQ_POST)
        evbuffer_add_buffer(evhttp_request_get_output_buffer(out_req), evhttp_request_get_input_buffer(f->req));
    f->state = FORWARD_SENT;
    f->out_req = out_req;
    /* May fail the request through poll_done before returning; f itself is
     * only freed from wake_event, later. */
    if (evhttp_make_request(f->out, out_req, method, evhttp_request_get_uri(f->req)) != 0) {
        /* Not queued (or already failed through poll_done): free it with f. */
        f->out_answered = 1;
        if (f->state == FORWARD_SENT)
            f->state = FORWARD_UNKNOWN;
        event_active(wake_event, EV_TIMEOUT, 1);
    }
}

/* --- WebSocket: take the connection over and relay its bytes ------------ */

static void tunnel_free(struct tunnel *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        tunnels = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->owner)
        bufferevent_free(t->owner);
    if (t->evcon) {
        evhttp_connection_set_closecb(t->evcon, NULL, NULL);
        /* Frees the parked request, the client's bufferevent and socket. */
        evhttp_connection_free(t->evcon);
    }
    free(t);
}

/* One side ended: let the other side write what it still has, then free. */
static void tunnel_close(struct tunnel *t, struct bufferevent *ended)
{
    struct bufferevent *other = ended == t->client ? t->owner : t->client;
    if (t->closing || !other || evbuffer_get_length(bufferevent_get_output(other)) == 0) {
        tunnel_free(t);
        return;
    }
    t->closing = 1;
    bufferevent_disable(ended, EV_READ);
    bufferevent_disable(other, EV_READ);
    struct timeval tv = {TUNNEL_FLUSH_SECONDS, 0};
    bufferevent_set_timeouts(other, NULL, &tv);
}

static void tunnel_read(struct bufferevent *bev, void *arg)
{
    struct tunnel *t = arg;
    struct bufferevent *other = bev == t->client ? t->owner : t->client;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (bev == t->owner)
        t->from_owner += evbuffer_get_length(in);
    struct evbuffer *out = bufferevent_get_output(other);
    evbuffer_add_buffer(out, in);
    /* A slow reader on the other side: stop reading until it catches up. */
    if (evbuffer_get_length(out) > TUNNEL_BUFFER_MAX)
        bufferevent_disable(bev, EV_READ);
}

static void tunnel_write(struct bufferevent *bev, void *arg)
{
    struct tunnel *t = arg;
    if (t->closing) {
        tunnel_free(t);
        return;
    }
    struct bufferevent *other = bev == t->client ? t->owner : t->client;
    bufferevent_enable(other, EV_READ);
}

static void tunnel_event(struct bufferevent *bev, short what, void *arg)
{
    struct tunnel *t = arg;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
        return;
    if (bev == t->owner && t->from_owner == 0 && !t->closing) {
        /* The owner never answered the upgrade: it is gone, and so is the
         * session.  Tell the client as a non-owner would have. */
        core_metrics.eio_forward_failures++;
        struct evbuffer *out = bufferevent_get_output(t->client);
        evbuffer_add_printf(out,
                            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                            sizeof(unknown_sid) - 1, unknown_sid);
    }
    if (t->closing) {
        tunnel_free(t);
        return;
    }
    tunnel_close(t, bev);
}

static void tunnel_evcon_closed(struct evhttp_connection *evcon, void *arg)
{
    struct tunnel *t = arg;
    (void)evcon;
    /* evhttp is freeing the client connection itself (shutdown). */
    t->evcon = NULL;
    t->client = NULL;
    tunnel_free(t);
}

/* Re-serialise the upgrade request (evhttp parsed and checked it). */
static int tunnel_request(struct evbuffer *out, struct evhttp_request *req)
{
    if (evbuffer_add_printf(out, "GET %s HTTP/1.1\r\n", evhttp_request_get_uri(req)) < 0)
        return -1;
    struct evkeyval *h;
    TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next) {
        if (evbuffer_add_printf(out, "%s: %s\r\n", h->key, h->value) < 0)
            return -1;
    }
    return evbuffer_add(out, "\r\n", 2);
}

static void tunnel_start(struct forward *f, const struct peer *p)
{
    struct evhttp_request *req = f->req;
    struct evhttp_connection *evcon = f->client;
    struct bufferevent *client = evhttp_connection_get_bufferevent(evcon);
    struct tunnel *t = calloc(1, sizeof(*t));
    struct bufferevent *owner = t ? bufferevent_socket_new(eio_server.base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (!owner || !client || tunnel_request(bufferevent_get_output(owner), req) != 0) {
        if (owner)
            bufferevent_free(owner);
        free(t);
        evhttp_send_error(req, 500, NULL);
        forward_finish(f);
        return;
    }
    /* Frames the client pipelined after its request go on after it. */
    evbuffer_add_buffer(bufferevent_get_output(owner), bufferevent_get_input(client));
    /* The connection is ours from here: the forward lets go of it, and
     * the request stays parked on it until the tunnel ends. */
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    f->req = NULL;
    forward_finish(f);
    t->evcon = evcon;
    t->client = client;
    t->owner = owner;
    t->next = tunnels;
    if (tunnels)
        tunnels->prev = t;
    tunnels = t;
    evhttp_clear_headers(evhttp_request_get_input_headers(req));
    evhttp_connection_set_closecb(evcon, tunnel_evcon_closed, t);
    bufferevent_set_timeouts(client, NULL, NULL);
    bufferevent_setwatermark(client, EV_READ, 0, 0);
    bufferevent_setcb(client, tunnel_read, tunnel_write, tunnel_event, t);
    bufferevent_setcb(owner, tunnel_read, tunnel_write, tunnel_event, t);
    bufferevent_enable(client, EV_READ | EV_WRITE);
    bufferevent_enable(owner, EV_READ | EV_WRITE);
    core_metrics.eio_forwarded_upgrades++;
    /* A refused connect is reported through tunnel_event. */
    if (bufferevent_socket_connect(owner, (const struct sockaddr *)&p->addr, p->addr_len) != 0)
        tunnel_event(owner, BEV_EVENT_ERROR, t);
}

/* --- the wake-up: forwards whose owner address is known (or not) -------- */

static void forward_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    struct forward *f = forwards;
    while (f) {
        struct forward *next = f->next;
        if (f->state == FORWARD_READY) {
            struct peer *p = peer_find(f->owner);
            if (!p || !f->req) {
                f->state = FORWARD_UNKNOWN;
            } else if (f->websocket) {
                tunnel_start(f, p);
            } else {
                core_metrics.eio_forwarded_polls++;
                poll_send(f, p);
            }
        }
        if (f->state == FORWARD_UNKNOWN) {
            struct evhttp_request *req = f->req;
            forward_finish(f);
            if (req)
                reply_unknown(req);
        }
        if (f->state == FORWARD_DONE)
            forward_free(f);
        f = next;
    }
}

static void lookup_done(const sbr_state_reply *reply, void *userdata)
{
    struct lookup *l = userdata;
    if (!wake_event)
        return; /* shut down: eio_forward_free freed l already */
    for (struct lookup **pp = &lookups; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    if (reply && reply->status == SBR_OK && reply->found && reply->value)
        peer_remember(l->id, reply->value, reply->value_len);
    int known = peer_find(l->id) != NULL, retry = 0;
    for (struct forward *f = forwards; f; f = f->next) {
        if (f->state != FORWARD_LOOKUP || memcmp(f->owner, l->id, EIO_WORKER_ID_LEN) != 0)
            continue;
        if (known) {
            f->state = FORWARD_READY;
        } else if (++f->lookups < LOOKUP_ATTEMPTS) {
            f->state = FORWARD_RETRY;
            retry = 1;
        } else {
            f->state = FORWARD_UNKNOWN;
        }
    }
    free(l);
    if (retry && !evtimer_pending(retry_timer, NULL)) {
        struct timeval tv = {0, WORKER_RETRY_MS * 1000};
        evtimer_add(retry_timer, &tv);
    }
    /* Callbacks may come from inside kv_get: continue from the loop. */
    if (wake_event)
        event_active(wake_event, EV_TIMEOUT, 1);
}

static void lookup_start(const char *id);

static void lookup_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (struct forward *f = forwards; f; f = f->next) {
        if (f->state == FORWARD_RETRY && peer_find(f->owner)) {
            f->state = FORWARD_READY; /* another request's lookup found it */
            event_active(wake_event, EV_TIMEOUT, 1);
        } else if (f->state == FORWARD_RETRY) {
            f->state = FORWARD_LOOKUP;
            lookup_start(f->owner);
        }
    }
}

static void lookup_start(const char *id)
{
    for (struct lookup *l = lookups; l; l = l->next)
        if (memcmp(l->id, id, EIO_WORKER_ID_LEN) == 0)
            return;
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l) {
        for (struct forward *f = forwards; f; f = f->next)
            if (f->state == FORWARD_LOOKUP && memcmp(f->owner, id, EIO_WORKER_ID_LEN) == 0)
                f->state = FORWARD_UNKNOWN;
        event_active(wake_event, EV_TIMEOUT, 1);
        return;
    }
    memcpy(l->id, id, EIO_WORKER_ID_LEN);
    l->next = lookups;
    lookups = l;
    char key[sizeof(WORKER_KEY_PREFIX) + EIO_WORKER_ID_LEN];
    snprintf(key, sizeof(key), "%s%s", WORKER_KEY_PREFIX, l->id);
    if (bus_api_kv_get(key, lookup_done, l) != SBR_OK) {
        /* Refused without a callback, unless it answered already. */
        for (struct lookup *x = lookups; x; x = x->next)
            if (x == l) {
                lookup_done(NULL, l);
                break;
            }
    }
}

int eio_forward_request(struct evhttp_request *req, const char *sid, int websocket)
{
    if (serving_peer || !wake_event || strlen(sid) != EIO_SID_LEN ||
        memcmp(sid, eio_worker_id, EIO_WORKER_ID_LEN) == 0)
        return 0;
    for (size_t i = 0; i < EIO_SID_LEN; i++) {
        char c = sid[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    /* Only Engine.IO's own requests travel, and only to /socket.io/. */
    if (!path || strncmp(path, "/socket.io/", 11) != 0 || (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST))
        return 0;
    if (websocket && method != EVHTTP_REQ_GET)
        return 0;
    if (method == EVHTTP_REQ_POST &&
        evbuffer_get_length(evhttp_request_get_input_buffer(req)) > settings_get()->max_payload) {
        eio_reply_error(req, 413, 3, "Payload too large");
        return 1;
    }
    struct forward *f = calloc(1, sizeof(*f));
    if (!f)
        return 0;
    f->req = req;
    f->client = evhttp_request_get_connection(req);
    f->websocket = websocket;
    memcpy(f->owner, sid, EIO_WORKER_ID_LEN);
    f->next = forwards;
    if (forwards)
        forwards->prev = f;
    forwards = f;
    evhttp_connection_set_closecb(f->client, forward_client_gone, f);
    if (peer_find(f->owner)) {
        f->state = FORWARD_READY;
        event_active(wake_event, EV_TIMEOUT, 1);
    } else {
        f->state = FORWARD_LOOKUP;
        lookup_start(f->owner);
    }
    return 1;
}

/* --- the worker address ---------------------------------------------------- */

static void peer_dispatch(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || strncmp(path, "/socket.io/", 11) != 0) {
        http_reply_error(req, 404, "not_found");
        return;
    }
    serving_peer = 1;
    eio_http_handle(req);
    serving_peer = 0;
}

static void register_done(const sbr_state_reply *reply, void *userdata)
{
    (void)userdata;
    /* Written to the in-process fallback, the address helps nobody: keep
     * retrying until the shared backend has it. */
    int ok = reply && reply->status == SBR_OK && bus_state_get() == SBR_BUS_CONNECTED;
    if (ok && !registered)
        log_info("eio", "worker %s serves forwarded sessions at %s", eio_worker_id, advertised);
    registered = ok;
}

static void register_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    char key[sizeof(WORKER_KEY_PREFIX) + EIO_WORKER_ID_LEN];
    snprintf(key, sizeof(key), "%s%s", WORKER_KEY_PREFIX, eio_worker_id);
    static unsigned ticks;
    int rc = bus_api_kv_set(key, advertised, strlen(advertised), WORKER_TTL_MS, register_done, NULL);
    if (rc != SBR_OK)
        registered = 0;
    /* Retry quickly while the bus plugin loads and connects (its state
     * reads "disabled" until then), slowly on a bus that is in-process by
     * configuration. */
    ticks++;
    uint64_t now = clock_monotonic_ms();
    for (struct peer *p = peers; p; p = p->next)
        peer_pool_sweep(p, now);
    int settled = rc == SBR_OK && bus_state_get() == SBR_BUS_LOCAL && ticks > 50;
    uint64_t ms = registered || settled ? WORKER_REFRESH_MS : WORKER_RETRY_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(register_timer, &tv);
}

/* A numeric ip:port, port 0 (any) included, which libevent's own parser
 * refuses. */
static int parse_bind_address(const char *text, struct sockaddr_storage *ss, int *sl)
{
    char copy[128];
    size_t n = strlen(text);
    if (n < 2 || n >= sizeof(copy))
        return -1;
    memcpy(copy, text, n + 1);
    int any = strcmp(copy + n - 2, ":0") == 0;
    if (any)
        copy[n - 1] = '1';
    if (evutil_parse_sockaddr_port(copy, (struct sockaddr *)ss, sl) != 0)
        return -1;
    if (any && ss->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)ss)->sin6_port = 0;
    else if (any)
        ((struct sockaddr_in *)ss)->sin_port = 0;
    return 0;
}

/* Bind `worker_listen` and work out the address to advertise. */
static int peer_listen(void)
{
    struct conf_values *v = settings_values();
    const char *bind_text = conf_values_string(v, "worker_listen");
    const char *adv = conf_values_string(v, "worker_advertise");
    if (!bind_text)
        bind_text = "127.0.0.1:0";
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    if (parse_bind_address(bind_text, &ss, &sl) != 0) {
        log_error("eio", "worker_listen '%s': not a numeric ip:port", bind_text);
        return -1;
    }
    evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0 || listen(fd, 511) != 0) {
        log_error("eio", "worker_listen %s: %s", bind_text, strerror(errno));
        if (fd >= 0)
            evutil_closesocket(fd);
        return -1;
    }
    socklen_t bl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &bl);
    peer_http = evhttp_new(eio_server.base);
    if (!peer_http || !(peer_bound = evhttp_accept_socket_with_handle(peer_http, fd))) {
        log_error("eio", "worker_listen %s: cannot accept", bind_text);
        evutil_closesocket(fd);
        return -1;
    }
    listener_guard(eio_server.base, peer_bound, "worker address");
    const struct core_settings *st = settings_get();
    uint64_t body = st->max_body_size > st->max_payload ? st->max_body_size : st->max_payload;
    evhttp_set_max_headers_size(peer_http, (ev_ssize_t)(st->max_header_size * 2));
    evhttp_set_max_body_size(peer_http, (ev_ssize_t)(body * 2));
    evhttp_set_allowed_methods(peer_http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(peer_http, peer_dispatch, NULL);
    if (adv && *adv) {
        snprintf(advertised, sizeof(advertised), "%s", adv);
        return 0;
    }
    char host[64];
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        evutil_inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(advertised, sizeof(advertised), "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        evutil_inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(advertised, sizeof(advertised), "%s:%u", host, (unsigned)ntohs(a->sin_port));
    }
    return 0;
}

int eio_forward_init(void)
{
    wake_event = event_new(eio_server.base, -1, 0, forward_wake, NULL);
    register_timer = evtimer_new(eio_server.base, register_tick, NULL);
    retry_timer = evtimer_new(eio_server.base, lookup_retry, NULL);
    if (!wake_event || !register_timer || !retry_timer || peer_listen() != 0)
        return -1;
    /* The bus plugin is not loaded yet: register from the loop. */
    struct timeval now = {0, 0};
    evtimer_add(register_timer, &now);
    return 0;
}

void eio_forward_free(void)
{
    while (forwards) {
        struct forward *f = forwards;
        struct evhttp_request *req = f->req;
        if (req) {
            evhttp_connection_set_closecb(f->client, NULL, NULL);
            f->req = NULL;
            evhttp_send_error(req, 503, NULL);
        }
        forward_free(f);
    }
    while (tunnels)
        tunnel_free(tunnels);
    while (peers)
        peer_forget(peers->id);
    /* The bus plugins are unloaded by now: no lookup will be answered. */
    while (lookups) {
        struct lookup *l = lookups;
        lookups = l->next;
        free(l);
    }
    listener_unguard(peer_bound);
    peer_bound = NULL;
    if (peer_http)
        evhttp_free(peer_http);
    peer_http = NULL;
    if (wake_event)
        event_free(wake_event);
    wake_event = NULL;
    if (register_timer)
        event_free(register_timer);
    register_timer = NULL;
    if (retry_timer)
        event_free(retry_timer);
    retry_timer = NULL;
    registered = 0;
}
