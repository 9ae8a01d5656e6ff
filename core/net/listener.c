/* Accept errors of the evhttp listeners: see listener.h. */
#include "net/listener.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

#define LISTENER_MAX 32

struct guard {
    struct evconnlistener *lev; /* NULL: a free slot */
    struct event *resume;
    char name[64];
    uint64_t logged_at;          /* monotonic ms of the last log line, 0: none yet */
    unsigned long unlogged;      /* failures since that line */
};

static struct guard guards[LISTENER_MAX];

static struct guard *guard_of(const struct evconnlistener *lev)
{
    for (size_t i = 0; i < LISTENER_MAX; i++)
        if (guards[i].lev == lev)
            return &guards[i];
    return NULL;
}

static void listener_resume(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct guard *g = arg;
    if (g->lev)
        evconnlistener_enable(g->lev);
}

static void listener_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct guard *g = guard_of(lev);
    if (!g)
        return;
    int exhausted = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
    if (exhausted) {
        struct timeval tv = {0, LISTENER_PAUSE_MS * 1000};
        evconnlistener_disable(lev);
        evtimer_add(g->resume, &tv);
        core_metrics.accept_pauses++;
    }
    g->unlogged++;
    uint64_t now = clock_monotonic_ms();
    if (g->logged_at && now - g->logged_at < LISTENER_LOG_MS)
        return;
    if (exhausted)
        log_warn("core", "%s: cannot accept: %s (%lu time(s) since the last such line): pausing new connections "
                 "for %d ms each time; raise the open files limit (LimitNOFILE, ulimit -n) or lower max_connections",
                 g->name, strerror(err), g->unlogged, LISTENER_PAUSE_MS);
    else
        log_warn("core", "%s: accept: %s (%lu time(s) since the last such line)", g->name, strerror(err),
                 g->unlogged);
    g->logged_at = now;
    g->unlogged = 0;
}

int listener_guard(struct event_base *base, struct evhttp_bound_socket *bound, const char *name)
{
    struct evconnlistener *lev = evhttp_bound_socket_get_listener(bound);
    struct guard *g = lev ? guard_of(NULL) : NULL;
    if (!g)
        return -1;
    g->resume = evtimer_new(base, listener_resume, g);
    if (!g->resume)
        return -1;
    g->lev = lev;
    snprintf(g->name, sizeof(g->name), "%s", name);
    g->logged_at = 0;
    g->unlogged = 0;
    evconnlistener_set_error_cb(lev, listener_error);
    return 0;
}

void listener_unguard(struct evhttp_bound_socket *bound)
{
    struct evconnlistener *lev = bound ? evhttp_bound_socket_get_listener(bound) : NULL;
    struct guard *g = lev ? guard_of(lev) : NULL;
    if (!g)
        return;
    evconnlistener_set_error_cb(lev, NULL);
    event_free(g->resume);
    memset(g, 0, sizeof(*g));
}
