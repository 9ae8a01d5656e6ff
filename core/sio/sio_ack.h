/* Acknowledgements the server asks of clients (private to core/sio): each
 * callback called exactly once.  Calls sio_conn.c and sio_emit.c. */
#ifndef SBR_SIO_ACK_H
#define SBR_SIO_ACK_H

#include <jansson.h>
#include "sio/sio_conn.h"

/* The client acknowledged packet id: call its callback (args: JSON array). */
void sio_ack_received(struct sio_conn *c, uint64_t id, json_t *args);
/* The connection is gone: every waiting callback gets NULL. */
void sio_acks_cancel(struct sio_conn *c);
/* Shutdown: free them without callbacks (plugins are unloaded). */
void sio_acks_discard(struct sio_conn *c);

/* Host-table services (see struct sbr_api). */
int sio_api_emit_with_ack(sbr_conn_id conn, const char *event, const char *data_json, uint64_t timeout_ms,
                          void (*fn)(sbr_conn_id conn, const char *args_json, void *userdata), void *userdata);

#endif
