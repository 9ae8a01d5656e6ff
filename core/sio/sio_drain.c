/* The drain on SIGTERM (see sio_drain.h). */
#include <string.h>
#include "clock.h"
#include "settings.h"
#include "eio/eio_session.h"
#include "sio/sio_conn.h"
#include "sio/sio_drain.h"
#include "ws/ws_conn.h"

static struct {
    struct event *timer;
    void (*done)(void);
    uint64_t deadline;
} drain;

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if ((eio_session_count() == 0 && ws_conn_count() == 0) || clock_monotonic_ms() >= drain.deadline) {
        event_del(drain.timer);
        void (*done)(void) = drain.done;
        drain.done = NULL;
        if (done)
            done();
    }
}

/* How long a drain waits for a polling client with no GET in flight to
 * come back for its DISCONNECT: it re-polls as soon as its previous GET
 * was answered, so a second is many round trips. */
#define SIO_DRAIN_POLL_GRACE_MS 1000

void sio_server_drain(void (*done)(void))
{
    /* As the reference server's close(): the Engine.IO transport of every
     * session closes (a WebSocket close frame, the close packet for a
     * polling client), with no Socket.IO DISCONNECT, so the client sees
     * "transport close" and reconnects by itself, to another worker when
     * one is up.  A polling GET held now gets its queue and the close
     * packet at once. */
    eio_server_hold_polls();
    uint64_t timeout = settings_get()->shutdown_timeout_ms;
    eio_server_drain("server shutting down", timeout < SIO_DRAIN_POLL_GRACE_MS ? timeout : SIO_DRAIN_POLL_GRACE_MS);
    drain.done = done;
    drain.deadline = clock_monotonic_ms() + timeout;
    if (!drain.timer)
        drain.timer = event_new(sio_event_base(), -1, EV_PERSIST, drain_check, NULL);
    if (!drain.timer) {
        if (done)
            done();
        return;
    }
    struct timeval tv = {0, 20 * 1000};
    event_add(drain.timer, &tv);
}

void sio_drain_free(void)
{
    if (drain.timer)
        event_free(drain.timer);
    memset(&drain, 0, sizeof(drain));
}
