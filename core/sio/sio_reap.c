/* Closing and freeing connections and clients (see sio_reap.h). */
#include <stdlib.h>
#include <string.h>
#include "sio/sio_ack.h"
#include "sio/sio_emit.h"
#include "sio/sio_log.h"
#include "sio/sio_reap.h"
#include "sio/sio_recover.h"
#include "sio/sio_recover_record.h"
#include "sio/sio_room.h"
#include "sio/sio_stream.h"

void sio_connect_state_free(struct sio_conn *c)
{
    if (!c->connect)
        return;
    sio_recover_free(c->connect->recover);
    free(c->connect->auth_json);
    free(c->connect);
    c->connect = NULL;
}

void sio_conn_free(struct sio_conn *c)
{
    if (c->disconnect_requested) {
        for (struct sio_conn **p = &sio_deferred.disconnects; *p; p = &(*p)->disconnect_next) {
            if (*p == c) {
                *p = c->disconnect_next;
                break;
            }
        }
    }
    sio_acks_discard(c);
    sio_conn_drop_held(c);
    sio_connect_state_free(c);
    sio_stream_free(c);
    free(c->identity);
    free(c->rooms);
    free(c->resume_reason);
    free(c->disconnect_reason);
    free(c);
}

/* The disconnects asked during the turn: DISCONNECT (or CONNECT_ERROR for
 * a pending CONNECT), close, and the session with its last namespace. */
static void reap_disconnects(void)
{
    while (sio_deferred.disconnects) {
        struct sio_conn *c = sio_deferred.disconnects;
        sio_deferred.disconnects = c->disconnect_next;
        c->disconnect_next = NULL;
        c->disconnect_requested = 0;
        if (c->state == SIO_CONN_CLOSED)
            continue;
        struct sio_client *cl = c->client;
        if (c->state == SIO_CONN_CONNECTED)
            sio_send_disconnect(c);
        else
            sio_send_connect_error(cl, c->nsp, c->disconnect_reason ? c->disconnect_reason : "disconnected");
        char *reason = c->disconnect_reason;
        c->disconnect_reason = NULL;
        sio_conn_close(c, reason ? reason : "server namespace disconnect");
        free(reason);
        /* A server-side disconnect of the last namespace ends the session,
         * as the reference server's disconnect(true) does. */
        if (cl->eio && !sio_client_has_live_conns(cl))
            eio_session_close(cl->eio, "server namespace disconnect");
    }
}

void sio_conn_unlink_free(struct sio_conn *c)
{
    struct sio_conn **p = &c->client->conns;
    while (*p && *p != c)
        p = &(*p)->client_next;
    if (*p)
        *p = c->client_next;
    sio_conn_free(c);
}

static void reap_frees(void)
{
    while (sio_deferred.reap_conns) {
        struct sio_conn *c = sio_deferred.reap_conns;
        sio_deferred.reap_conns = c->reap_next;
        sio_conn_unlink_free(c);
    }
    while (sio_deferred.reap_clients) {
        struct sio_client *cl = sio_deferred.reap_clients;
        sio_deferred.reap_clients = cl->reap_next;
        /* Its connections were closed with it and are freed above. */
        while (cl->conns) {
            struct sio_conn *c = cl->conns;
            cl->conns = c->client_next;
            sio_conn_free(c);
        }
        sio_client_free(cl);
    }
}

void sio_reap_run(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* Requested disconnects first: they may close clients. */
    reap_disconnects();
    while (sio_deferred.drops) {
        struct sio_client *cl = sio_deferred.drops;
        sio_deferred.drops = cl->reap_next;
        cl->reap_next = NULL;
        if (cl->eio)
            eio_session_close(cl->eio, cl->drop_reason);
    }
    reap_frees();
}

/* Lost rather than ended: the client will be back (the reasons of the
 * reference server's RECOVERABLE_DISCONNECT_REASONS, a slow consumer for
 * its "forced close"). */
static int reason_lost(const char *reason)
{
    static const char *const lost[] = {"transport close", "transport error", "ping timeout", "server shutting down",
                                       "slow consumer"};
    for (size_t i = 0; i < sizeof(lost) / sizeof(*lost); i++)
        if (strcmp(reason, lost[i]) == 0)
            return 1;
    return 0;
}

void sio_conn_close(struct sio_conn *c, const char *reason)
{
    if (c->state == SIO_CONN_CLOSED)
        return;
    if (!reason)
        reason = "transport close";
    int was_connected = c->state == SIO_CONN_CONNECTED;
    int lost = reason_lost(reason);
    c->state = SIO_CONN_CLOSED;
    /* A refused CONNECT gets its CONNECT_ERROR only. */
    sio_conn_drop_held(c);
    sio_log_closed(c, reason);
    if (was_connected && lost && c->stream)
        sio_record_save(c);
    sio_rooms_leave_all(c);
    sio_conn_remove(c);
    sio_acks_cancel(c);
    if (c->offered) {
        sbr_event_disconnect ev;
        memset(&ev, 0, sizeof(ev));
        ev.struct_size = sizeof(ev);
        ev.conn = c->id;
        ev.was_connected = was_connected;
        ev.reason = reason;
        ev.lost = lost;
        hooks_notify(SBR_EVENT_DISCONNECT, &ev);
    }
    if (!c->client->closed) {
        c->reap_next = sio_deferred.reap_conns;
        sio_deferred.reap_conns = c;
        sio_schedule_reap();
    }
}


/* The client frees its connections itself: take them, and it, off the
 * lists of deferred work. */
static void forget_client(struct sio_client *cl)
{
    struct sio_conn **p = &sio_deferred.reap_conns;
    while (*p) {
        if ((*p)->client == cl)
            *p = (*p)->reap_next;
        else
            p = &(*p)->reap_next;
    }
    struct sio_conn **d = &sio_deferred.disconnects;
    while (*d) {
        if ((*d)->client == cl)
            *d = (*d)->disconnect_next;
        else
            d = &(*d)->disconnect_next;
    }
    struct sio_client **x = &sio_deferred.drops;
    while (*x) {
        if (*x == cl)
            *x = cl->reap_next;
        else
            x = &(*x)->reap_next;
    }
}

void sio_client_closed(struct sio_client *cl, const char *reason)
{
    cl->eio = NULL;
    if (cl->connect_timer)
        event_del(cl->connect_timer);
    for (struct sio_conn *c = cl->conns; c; c = c->client_next)
        sio_conn_close(c, reason);
    /* The connections above went on the reap list unless closed was set:
     * take them off, the client frees them all. */
    cl->closed = 1;
    forget_client(cl);
    cl->reap_next = sio_deferred.reap_clients;
    sio_deferred.reap_clients = cl;
    sio_schedule_reap();
}
