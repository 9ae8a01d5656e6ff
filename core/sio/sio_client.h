/* Clients (private to core/sio): one per Engine.IO session, as the layer
 * above Engine.IO (struct eio_handler): packets in, binary attachments
 * collected, each packet to its namespace's connection, protocol errors,
 * the connect timeout.  Calls sio_connect.c, sio_message.c, sio_ack.c,
 * sio_rate.c, sio_reap.c, sio_conn.c and eio. */
#ifndef SBR_SIO_CLIENT_H
#define SBR_SIO_CLIENT_H

#include "eio/eio_session.h"

/* What Engine.IO calls for every session. */
extern const struct eio_handler sio_client_handler;

#endif
