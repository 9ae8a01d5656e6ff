/* The Socket.IO server as a whole: started, reloaded, drained (sio_drain.c)
 * and freed in order, and the connection services of the host table that
 * read the session.  The clients, connect chain, events, rooms and endings
 * are in the files named in sio.h. */
#include <stdlib.h>
#include "eio/eio_session.h"
#include "sio/sio.h"
#include "sio/sio_client.h"
#include "sio/sio_conn.h"
#include "sio/sio_reap.h"
#include "sio/sio_room.h"

int sio_server_init(struct event_base *base, const char *path)
{
    if (sio_conn_table_init(base, sio_reap_run) != 0 || sio_namespaces_init() != 0)
        return -1;
    sio_rooms_init();
    return eio_server_init(base, path, &sio_client_handler);
}

void sio_server_reload(void)
{
    /* Every setting is read where it is used (heartbeat, caps, rate), so
     * new values apply to the next use; nothing to rebuild. */
}

size_t sio_connection_count(void)
{
    return eio_session_count();
}

void sio_server_free(void)
{
    /* Sessions still open (the drain timed out, or polling clients never
     * came back) close now, so that their clients are reaped below. */
    if (sio_event_base())
        eio_server_close_all("server shutting down");
    sio_reap_run(-1, 0, NULL);
    sio_messages_free();
    /* Sessions go without callbacks; their clients and connections here. */
    for (struct sio_conn *c; (c = sio_conn_take_any());) {
        c->state = SIO_CONN_CLOSED;
        sio_rooms_leave_all(c);
        struct sio_client *cl = c->client;
        sio_conn_unlink_free(c);
        /* Free each client once, with its last connection. */
        if (!cl->conns) {
            cl->reap_next = sio_deferred.reap_clients;
            sio_deferred.reap_clients = cl;
        }
    }
    sio_reap_run(-1, 0, NULL);
    eio_server_free();
    sio_rooms_free();
    sio_namespaces_free();
    sio_drain_free();
    sio_conn_table_free();
}

int sio_api_conn_alive(sbr_conn_id conn)
{
    return sio_conn_live(conn) != NULL;
}

const char *sio_api_conn_query(sbr_conn_id conn, const char *name)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c && c->client->eio ? eio_session_query(c->client->eio, name) : NULL;
}

const char *sio_api_conn_header(sbr_conn_id conn, const char *name)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c && c->client->eio ? eio_session_header(c->client->eio, name) : NULL;
}

const char *sio_api_conn_remote_addr(sbr_conn_id conn)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c && c->client->eio ? eio_session_remote_addr(c->client->eio) : NULL;
}
