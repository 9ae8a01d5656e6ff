/* A WebSocket upgrade for another worker's session: the client's
 * connection is taken over before any answer, the upgrade request is
 * replayed to the owner's worker address, and the raw bytes are relayed
 * both ways: the owner answers the 101 and runs the WebSocket. */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

#include "metrics.h"
#include "util/tcp_nodelay.h"
#include "eio/eio_relay.h"

/* A relayed WebSocket stops reading one side while this much waits for the
 * other, and a closing tunnel gets this long to flush. */
#define TUNNEL_BUFFER_MAX (1024 * 1024)
#define TUNNEL_FLUSH_SECONDS 5

/* A relayed WebSocket connection: client <-> owner's worker address. */
struct tunnel {
    struct evhttp_connection *evcon;  /* the client's, kept idle (see ws_conn.h) */
    struct bufferevent *client, *owner;
    size_t from_owner;                /* bytes the owner sent so far */
    int closing;
    struct tunnel *prev, *next;
};

static struct tunnel *tunnels;

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
                            strlen(eio_unknown_sid_json), eio_unknown_sid_json);
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

static struct tunnel *tunnel_new(struct evhttp_connection *evcon, struct bufferevent *client,
                                 struct bufferevent *owner)
{
    struct tunnel *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->evcon = evcon;
    t->client = client;
    t->owner = owner;
    t->next = tunnels;
    if (tunnels)
        tunnels->prev = t;
    tunnels = t;
    return t;
}

int eio_tunnel_start(struct event_base *base, struct evhttp_request *req, const struct sockaddr_storage *addr,
                     int addr_len)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *client = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    struct bufferevent *owner = client ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
    struct tunnel *t = NULL;
    if (!owner || tunnel_request(bufferevent_get_output(owner), req) != 0 ||
        !(t = tunnel_new(evcon, client, owner))) {
        if (owner)
            bufferevent_free(owner);
        return -1;
    }
    /* Frames the client pipelined after its request go on after it; the
     * request stays parked on the connection until the tunnel ends. */
    evbuffer_add_buffer(bufferevent_get_output(owner), bufferevent_get_input(client));
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
    if (bufferevent_socket_connect(owner, (const struct sockaddr *)addr, addr_len) != 0) {
        tunnel_event(owner, BEV_EVENT_ERROR, t);
        return 0;
    }
    /* Frames are relayed as they come, one small write each. */
    tcp_nodelay(bufferevent_getfd(client));
    tcp_nodelay(bufferevent_getfd(owner));
    return 0;
}

void eio_tunnels_free(void)
{
    while (tunnels)
        tunnel_free(tunnels);
}
