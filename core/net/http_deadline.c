/* The absolute deadline for a request's headers (slowloris).
 *
 * evhttp's timeout is an inactivity timeout, so a client trickling its
 * headers a byte at a time would hold its connection forever.  Each new
 * connection gets an absolute deadline of header_timeout_ms for its first
 * request to reach the dispatcher; past it, the connection is freed.
 *
 * libevent 2.1 has no callback for a new connection, only one that makes
 * its bufferevent (evhttp_set_bevcb).  evhttp sets its callbacks on that
 * bufferevent, with the connection as their argument, before the loop runs
 * again; so a deferred callback picks the connection up from there and
 * watches it through its close callback.  Until then a reference on the
 * bufferevent keeps the record valid whoever frees the connection. */
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

#include "log.h"
#include "net/http_internal.h"
#include "settings.h"

struct http_deadline {
    struct bufferevent *bev;           /* until the connection is known */
    struct evhttp_connection *evcon;   /* then this, until it closes */
    struct event *timer;
    struct http_deadline *prev, *next;
};

static struct http_deadline *http_deadlines;

static void http_deadline_free(struct http_deadline *dl)
{
    if (dl->prev)
        dl->prev->next = dl->next;
    else
        http_deadlines = dl->next;
    if (dl->next)
        dl->next->prev = dl->prev;
    event_free(dl->timer);
    if (dl->bev)
        bufferevent_decref(dl->bev);
    else if (dl->evcon)
        evhttp_connection_set_closecb(dl->evcon, NULL, NULL);
    free(dl);
}

/* evhttp closes the connection first (the peer left, an error, shutdown). */
static void http_deadline_closed(struct evhttp_connection *evcon, void *arg)
{
    struct http_deadline *dl = arg;
    (void)evcon;
    dl->evcon = NULL;
    http_deadline_free(dl);
}

static void http_deadline_expired(evutil_socket_t fd, short what, void *arg)
{
    struct http_deadline *dl = arg;
    struct evhttp_connection *evcon = dl->evcon;
    (void)fd;
    (void)what;
    http_deadline_free(dl);
    log_debug("core", "request headers not complete within header_timeout_ms: closing");
    evhttp_connection_free(evcon);
}

/* The loop turn that accepted the connection: find it, start the clock. */
static void http_deadline_start(evutil_socket_t fd, short what, void *arg)
{
    struct http_deadline *dl = arg;
    bufferevent_data_cb readcb, writecb;
    bufferevent_event_cb eventcb;
    void *cbarg = NULL;
    (void)fd;
    (void)what;
    bufferevent_getcb(dl->bev, &readcb, &writecb, &eventcb, &cbarg);
    if (!eventcb || !cbarg) { /* evhttp already let it go */
        http_deadline_free(dl);
        return;
    }
    bufferevent_decref(dl->bev);
    dl->bev = NULL;
    dl->evcon = cbarg;
    evhttp_connection_set_closecb(dl->evcon, http_deadline_closed, dl);
    struct event_base *base = event_get_base(dl->timer);
    event_free(dl->timer);
    uint64_t ms = settings_get()->header_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    dl->timer = evtimer_new(base, http_deadline_expired, dl);
    if (!dl->timer || evtimer_add(dl->timer, &tv) != 0) {
        http_deadline_free(dl);
        return;
    }
}

struct bufferevent *http_deadline_bufferevent(struct event_base *base, void *arg)
{
    (void)arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev || !settings_get()->header_timeout_ms)
        return bev;
    struct http_deadline *dl = calloc(1, sizeof(*dl));
    struct event *start = dl ? event_new(base, -1, 0, http_deadline_start, dl) : NULL;
    if (!start) {
        free(dl);
        return bev;
    }
    bufferevent_incref(bev);
    dl->bev = bev;
    dl->timer = start;
    dl->next = http_deadlines;
    if (http_deadlines)
        http_deadlines->prev = dl;
    http_deadlines = dl;
    event_active(start, 0, 0);
    return bev;
}

/* The connection's first request arrived whole: its deadline is met. */
void http_deadline_met(struct evhttp_request *req)
{
    if (!http_deadlines)
        return;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
    for (struct http_deadline *dl = http_deadlines; evcon && dl; dl = dl->next) {
        if (dl->evcon == evcon || (dl->bev && dl->bev == bev)) {
            http_deadline_free(dl);
            return;
        }
    }
}


void http_deadline_free_all(void)
{
    while (http_deadlines)
        http_deadline_free(http_deadlines);
}
