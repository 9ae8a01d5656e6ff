/* Rooms (private to core/sio): membership both ways, the encode-once
 * broadcast, and fan-out between workers as a subscriber of the bus's
 * "room:<name>" topics; with recovery on, through the room log, which hands
 * every worker each event with its offset (sio_stream.c delivers it).
 * Calls sio_conn.c, sio_emit.c, sio_stream.c and the bus. */
#ifndef SBR_SIO_ROOM_H
#define SBR_SIO_ROOM_H

#include "sio/sio_conn.h"

/* Receive the room log's events (connection state recovery). */
void sio_rooms_init(void);
/* The bus topic "room:<name>" of a room with members here, or NULL; it
 * lives as long as the room. */
const char *sio_room_topic(const char *name);
/* The same event for a namespace other than "/": "42[...]" -> "42/nsp,[...]". */
struct eio_buf *sio_room_renamespace(const struct eio_buf *b, const char *nsp);
/* The connection leaves every room (it is closing). */
void sio_rooms_leave_all(struct sio_conn *c);
void sio_rooms_free(void);

/* Host-table services (see struct sbr_api). */
int sio_api_room_join(sbr_conn_id conn, const char *room);
int sio_api_room_leave(sbr_conn_id conn, const char *room);
int sio_api_room_contains(sbr_conn_id conn, const char *room);
size_t sio_api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *userdata);
int sio_api_emit_room(const char *room, const char *event, const char *data_json, sbr_conn_id except, unsigned flags);

#endif
