/* The namespace CONNECT (private to core/sio): the SBR_EVENT_CONNECT chain
 * through core/hooks, paused and resumed as hooks decide, then the answer
 * (CONNECT, what the chain emitted, SBR_EVENT_CONNECTED) or CONNECT_ERROR.
 * Calls sio_conn.c, sio_namespace.c, sio_emit.c, sio_reap.c, hooks and eio. */
#ifndef SBR_SIO_CONNECT_H
#define SBR_SIO_CONNECT_H

#include <superbot-realtime/plugin.h>
#include "sio/sio_conn.h"

/* A client's CONNECT packet for a namespace it has not joined. */
void sio_connect_begin(struct sio_client *cl, struct sio_packet *pk);

/* Host-table services (see struct sbr_api). */
int sio_api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason);

#endif
