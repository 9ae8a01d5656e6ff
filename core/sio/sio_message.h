/* Client events (private to core/sio): their chain through core/hooks (the
 * generic message hooks and the name's filters, then its handler) and the
 * sbr_message that lives until answered.  Calls sio_conn.c, sio_emit.c and
 * hooks. */
#ifndef SBR_SIO_MESSAGE_H
#define SBR_SIO_MESSAGE_H

#include "sio/sio_conn.h"

/* A client EVENT (or a BINARY_EVENT with its attachments, taken over). */
void sio_message_dispatch(struct sio_conn *c, struct sio_packet *pk, struct eio_buf **attachments, unsigned n);
void sio_messages_free(void);

/* A message's arguments as a parsed JSON array (owned by the message), or
 * NULL once it is answered.  For api->msg_arg_*. */
struct json_t;
struct json_t *sio_message_args(sbr_message *msg);

/* Host-table services (see struct sbr_api). */
int sio_api_message_reply(sbr_message *msg, const char *data_json);
int sio_api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason);
int sio_api_message_reply_args(sbr_message *msg, const char *args_json);
int sio_api_message_emit_args(sbr_message *msg, const char *event, const char *args_json);

#endif
