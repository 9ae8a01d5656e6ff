/* Socket.IO (layer 5, private): v5 over Engine.IO sessions: namespaces,
 * the connect chain, client events, acks, rooms and broadcast.
 * Offers: the server's start, reload, drain and end, and the services of
 * the host table (sio_api_*, whose contracts are the ones of the same-named
 * services in struct sbr_api), declared in the headers included below.
 * Calls: eio, hooks (chains run through it), the bus's publish and
 * subscribe (rooms are "room:<name>" topics), and the base layer.
 *
 * Inside, bottom up: sio_packet.c (the codec), sio_conn.c (the table and
 * deferred work), sio_namespace.c, sio_emit.c, sio_end.c, sio_ack.c,
 * sio_room.c, sio_message.c, sio_rate.c, sio_identity.c, sio_reap.c,
 * sio_connect.c, sio_client.c, sio_drain.c, then this file's sio.c; each
 * calls only files before it. */
#ifndef SBR_CORE_SIO_H
#define SBR_CORE_SIO_H

#include <stddef.h>
#include <event2/event.h>
#include <superbot-realtime/plugin.h>

#include "sio/sio_ack.h"
#include "sio/sio_connect.h"
#include "sio/sio_drain.h"
#include "sio/sio_emit.h"
#include "sio/sio_end.h"
#include "sio/sio_identity.h"
#include "sio/sio_message.h"
#include "sio/sio_namespace.h"
#include "sio/sio_room.h"

/* Start serving Socket.IO over Engine.IO at `path` ("/socket.io/"). */
int sio_server_init(struct event_base *base, const char *path);
/* Settings were reloaded: apply what can change live. */
void sio_server_reload(void);
/* SIGTERM (sio_drain.c): close every session's transport (WebSocket close,
 * polling close packet; no Socket.IO DISCONNECT, so clients reconnect by
 * themselves) and call done() once all are gone or the timeout passed. */
void sio_server_drain(void (*done)(void));
/* Free everything (after the loop stopped). */
void sio_server_free(void);

/* Live Engine.IO sessions on this worker. */
size_t sio_connection_count(void);

/* Host-table services that read the session (see struct sbr_api). */
int sio_api_conn_alive(sbr_conn_id conn);
const char *sio_api_conn_query(sbr_conn_id conn, const char *name);
const char *sio_api_conn_header(sbr_conn_id conn, const char *name);
const char *sio_api_conn_remote_addr(sbr_conn_id conn);

#endif
