/* Any worker serves any Engine.IO session, without sticky sessions.
 *
 * A sid starts with its owner's worker id.  A polling request or a
 * WebSocket upgrade that names a session of another worker is taken here
 * from its arrival until the owner's address is known (eio_peers.c), then
 * handed to eio_relay.c (polling) or eio_tunnel.c (WebSocket).  Requests
 * that arrive through the worker address are never relayed again, so a
 * relayed request cannot loop.  An unknown or forged worker id has no
 * address: the answer is "Session ID unknown", as it is when the owner is
 * gone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "settings.h"
#include "eio/eio_forward.h"
#include "eio/eio_internal.h"
#include "eio/eio_relay.h"

/* A worker that just started may not have advertised its address yet when
 * its first sessions come back through another worker: an id with no
 * address is looked up again this many times, FORWARD_RETRY_MS apart,
 * before the session counts as unknown. */
#define LOOKUP_ATTEMPTS 5
#define FORWARD_RETRY_MS 200

static struct {
    struct event_base *base;
    struct eio_forward *list;
    struct event *wake;        /* acts on forwards whose state changed */
    struct event *retry_timer; /* looks up again for FORWARD_RETRY */
    char path[SETTINGS_PATH_MAX + 1];
} fw;

static void forward_wake_up(void)
{
    event_active(fw.wake, EV_TIMEOUT, 1);
}

/* Free a forward; never from inside a callback of its own connection to
 * the owner (the caller defers through the wake event). */
static void forward_free(struct eio_forward *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        fw.list = f->next;
    if (f->next)
        f->next->prev = f->prev;
    if (f->req)
        evhttp_connection_set_closecb(f->client, NULL, NULL);
    /* The request is ours (evhttp_request_own): a connection freed with it
     * still queued (a worker stopping while a poll is relayed) only takes
     * it off its queue, so it is freed here, answered or not. */
    struct eio_peer *p = f->out && f->out_reusable ? eio_peers_find(f->owner) : NULL;
    if (p)
        eio_pool_put(&p->pool, f->out);
    else if (f->out)
        evhttp_connection_free(f->out);
    if (f->out_req)
        evhttp_request_free(f->out_req);
    free(f);
}

static void forward_finish(struct eio_forward *f)
{
    if (f->req) {
        evhttp_connection_set_closecb(f->client, NULL, NULL);
        f->req = NULL;
    }
    f->state = FORWARD_DONE;
    forward_wake_up();
}

static void forward_client_gone(struct evhttp_connection *evcon, void *arg)
{
    struct eio_forward *f = arg;
    (void)evcon;
    /* evhttp frees the request with its connection. */
    f->req = NULL;
    f->state = FORWARD_DONE;
    forward_wake_up();
}

/* The connection is the tunnel's from here, with the request parked on it. */
static void forward_tunnel(struct eio_forward *f, const struct eio_peer *p)
{
    struct evhttp_request *req = f->req;
    evhttp_connection_set_closecb(f->client, NULL, NULL);
    f->req = NULL;
    if (eio_tunnel_start(fw.base, req, &p->addr, p->addr_len) != 0)
        evhttp_send_error(req, 500, NULL);
    forward_finish(f);
}

/* The owner's address became known (or not) for f. */
static void forward_act(struct eio_forward *f)
{
    if (f->state == FORWARD_READY) {
        struct eio_peer *p = eio_peers_find(f->owner);
        if (!p || !f->req)
            f->state = FORWARD_UNKNOWN;
        else if (f->websocket)
            forward_tunnel(f, p);
        else
            eio_relay_poll(f, p, fw.base);
    }
    if (f->state == FORWARD_UNKNOWN) {
        struct evhttp_request *req = f->req;
        forward_finish(f);
        if (req)
            eio_reply_unknown_sid(req);
    }
}

static void forward_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    struct eio_forward *f = fw.list;
    while (f) {
        struct eio_forward *next = f->next;
        forward_act(f);
        if (f->state == FORWARD_DONE)
            forward_free(f);
        f = next;
    }
}

/* eio_peers.c looked worker `id` up. */
static void forward_looked_up(const char *id)
{
    int known = eio_peers_find(id) != NULL, retry = 0;
    for (struct eio_forward *f = fw.list; f; f = f->next) {
        if (f->state != FORWARD_LOOKUP || memcmp(f->owner, id, WORKER_ID_LEN) != 0)
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
    if (retry && !evtimer_pending(fw.retry_timer, NULL)) {
        struct timeval tv = {0, FORWARD_RETRY_MS * 1000};
        evtimer_add(fw.retry_timer, &tv);
    }
    /* Lookups may answer from inside kv_get: continue from the loop. */
    forward_wake_up();
}

static void forward_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (struct eio_forward *f = fw.list; f; f = f->next) {
        if (f->state == FORWARD_RETRY && eio_peers_find(f->owner)) {
            f->state = FORWARD_READY; /* another request's lookup found it */
            forward_wake_up();
        } else if (f->state == FORWARD_RETRY) {
            f->state = FORWARD_LOOKUP;
            eio_peers_lookup(f->owner);
        }
    }
}

/* A well-formed sid of another worker, on an Engine.IO request under path. */
static int forward_applies(struct evhttp_request *req, const char *sid, int websocket)
{
    size_t n = strlen(sid);
    if (!fw.wake || n != EIO_SID_LEN || memcmp(sid, worker_id(), WORKER_ID_LEN) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = sid[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    /* Only Engine.IO's own requests travel, and only to its path. */
    if (!path || strncmp(path, fw.path, strlen(fw.path)) != 0 ||
        (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_POST))
        return 0;
    return !websocket || method == EVHTTP_REQ_GET;
}

int eio_forward_request(struct evhttp_request *req, const char *sid, int websocket)
{
    if (!forward_applies(req, sid, websocket))
        return 0;
    if (evhttp_request_get_command(req) == EVHTTP_REQ_POST &&
        evbuffer_get_length(evhttp_request_get_input_buffer(req)) > settings_get()->max_payload) {
        eio_reply_error(req, 413, EIO_ERR_BAD_REQUEST, "Payload too large");
        return 1;
    }
    struct eio_forward *f = calloc(1, sizeof(*f));
    if (!f)
        return 0;
    f->req = req;
    f->client = evhttp_request_get_connection(req);
    f->websocket = websocket;
    f->wake = fw.wake;
    memcpy(f->owner, sid, WORKER_ID_LEN);
    f->next = fw.list;
    if (fw.list)
        fw.list->prev = f;
    fw.list = f;
    evhttp_connection_set_closecb(f->client, forward_client_gone, f);
    if (eio_peers_find(f->owner)) {
        f->state = FORWARD_READY;
        forward_wake_up();
    } else {
        f->state = FORWARD_LOOKUP;
        eio_peers_lookup(f->owner);
    }
    return 1;
}

int eio_forward_init(struct event_base *base, const char *path, const char *advertised)
{
    fw.base = base;
    snprintf(fw.path, sizeof(fw.path), "%s", path);
    fw.wake = event_new(base, -1, 0, forward_wake, NULL);
    fw.retry_timer = evtimer_new(base, forward_retry, NULL);
    if (!fw.wake || !fw.retry_timer)
        return -1;
    return eio_peers_start(base, advertised, forward_looked_up);
}

void eio_forward_free(void)
{
    while (fw.list) {
        struct eio_forward *f = fw.list;
        struct evhttp_request *req = f->req;
        if (req) {
            evhttp_connection_set_closecb(f->client, NULL, NULL);
            f->req = NULL;
            evhttp_send_error(req, 503, NULL);
        }
        forward_free(f);
    }
    eio_tunnels_free();
    eio_peers_free();
    if (fw.wake)
        event_free(fw.wake);
    if (fw.retry_timer)
        event_free(fw.retry_timer);
    memset(&fw, 0, sizeof(fw));
}
