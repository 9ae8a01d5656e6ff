/* Endings the server starts (private to core/sio): a disconnect the client
 * may retry, or an ending with a reason it should show (disconnect_reason,
 * then DISCONNECT), both after the current hook returns.  Calls sio_conn.c
 * and sio_emit.c. */
#ifndef SBR_SIO_END_H
#define SBR_SIO_END_H

#include "sio/sio_conn.h"

/* End a connection for a reason its client should show rather than retry
 * blindly: the event disconnect_reason {"reason": code}, then a DISCONNECT
 * after the current hook returns.  code: see sio_reason_code_valid. */
void sio_conn_end(struct sio_conn *c, const char *code);
/* 1..64 characters of [a-z0-9_.-]: codes go into JSON unescaped. */
int sio_reason_code_valid(const char *code);

/* Host-table services (see struct sbr_api). */
int sio_api_conn_end(sbr_conn_id conn, const char *code);
int sio_api_conn_disconnect(sbr_conn_id conn, const char *reason);

#endif
