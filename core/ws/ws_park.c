/* evhttp connections whose socket a WebSocket took over (see ws_park.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <event2/event.h>
#include "ws/ws_park.h"

/* evhttp connections whose socket was taken over, waiting to be freed from
 * the loop: freeing one inside evhttp's own request callback would pull the
 * request and connection out from under the evhttp code that called it. */
static struct evhttp_connection **ws_parked;
static size_t ws_n_parked, ws_cap_parked;
static struct event *ws_release_ev;
/* /dev/null, kept open: dup2()ed over the socket's old fd number so that
 * what evhttp does to that number when it frees the connection (close, and
 * shutdown(SHUT_WR) on the fd it recorded at accept) hits this instead of
 * the client's socket, which lives on under a new number. */
static int ws_placeholder_fd = -1;

static void ws_release_parked(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    while (ws_n_parked) {
        struct evhttp_connection *evcon = ws_parked[--ws_n_parked];
        evhttp_connection_set_closecb(evcon, NULL, NULL);
        evhttp_connection_free(evcon);
    }
}

/* evhttp_free got to a parked connection first (shutdown): forget it. */
static void ws_parked_freed(struct evhttp_connection *evcon, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < ws_n_parked; i++) {
        if (ws_parked[i] == evcon) {
            ws_parked[i] = ws_parked[--ws_n_parked];
            return;
        }
    }
}

int ws_park_reserve(struct event_base *base)
{
    if (ws_placeholder_fd < 0)
        ws_placeholder_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (ws_placeholder_fd < 0)
        return -1;
    if (!ws_release_ev && !(ws_release_ev = event_new(base, -1, 0, ws_release_parked, NULL)))
        return -1;
    if (ws_n_parked < ws_cap_parked)
        return 0;
    size_t cap = ws_cap_parked ? ws_cap_parked * 2 : 64;
    struct evhttp_connection **p = realloc(ws_parked, cap * sizeof(*p));
    if (!p)
        return -1;
    ws_parked = p;
    ws_cap_parked = cap;
    return 0;
}

int ws_park_cover(evutil_socket_t fd)
{
    int r;
    while ((r = dup2(ws_placeholder_fd, fd)) < 0 && errno == EINTR)
        ;
    return r < 0 ? -1 : 0;
}

void ws_park_add(struct evhttp_connection *evcon)
{
    ws_parked[ws_n_parked++] = evcon;
    evhttp_connection_set_closecb(evcon, ws_parked_freed, NULL);
    event_active(ws_release_ev, 0, 0);
}

void ws_park_free_all(void)
{
    ws_release_parked(-1, 0, NULL);
    free(ws_parked);
    ws_parked = NULL;
    ws_n_parked = ws_cap_parked = 0;
    if (ws_release_ev)
        event_free(ws_release_ev);
    ws_release_ev = NULL;
    if (ws_placeholder_fd >= 0)
        close(ws_placeholder_fd);
    ws_placeholder_fd = -1;
}
