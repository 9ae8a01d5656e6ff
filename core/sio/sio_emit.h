/* Packets to clients (private to core/sio): encoding once, queuing under
 * the outbound cap, holding what a pending CONNECT may not see yet, and the
 * control packets (CONNECT_ERROR, DISCONNECT).  Calls sio_conn.c and eio. */
#ifndef SBR_SIO_EMIT_H
#define SBR_SIO_EMIT_H

#include <jansson.h>
#include "sio/sio_conn.h"

/* Build one shared Engine.IO message packet:
 *     4<type>[<attachments>-][<nsp>,][<id>][<"event">,<rest>]
 * where rest is JSON text of the arguments without their brackets (may be
 * NULL) and event is NULL for acks.  NULL if the event is not UTF-8. */
struct eio_buf *sio_encode_packet(int type, unsigned attachments, const char *nsp, int has_id, uint64_t id,
                                  const char *event, const char *rest, size_t rest_len);
/* Check that args_json is a JSON array; point at its elements' text (a
 * scan, no parse). */
int sio_args_inner(const char *args_json, const char **inner, size_t *inner_len);
/* 1 if the text is one valid JSON value (a scan, no parse: util/json_text). */
int sio_json_valid(const char *json);
/* Queue a packet to a connection, honouring the volatile flag and the
 * outbound cap; the buffer is referenced, not copied.  While the CONNECT
 * is pending the packet is held on the connection (see sio_conn.held). */
int sio_conn_send(struct sio_conn *c, struct eio_buf *b, unsigned flags);
/* The CONNECT was accepted: queue the held packets on the session, in order. */
void sio_conn_release_held(struct sio_conn *c);
/* The CONNECT was refused or the connection closed: drop the held packets. */
void sio_conn_drop_held(struct sio_conn *c);
/* Queue a Socket.IO packet given as text ("2[...]", "3/nsp,1[...]"). */
int sio_conn_send_text(struct sio_conn *c, const char *sio_packet, size_t len);
/* CONNECT_ERROR {"message": message} for namespace nsp of the client. */
void sio_send_connect_error(struct sio_client *cl, const char *nsp, const char *message);
/* The Socket.IO DISCONNECT of the connection's namespace. */
void sio_send_disconnect(struct sio_conn *c);

/* Host-table services (see struct sbr_api). */
int sio_api_emit(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags);

#endif
