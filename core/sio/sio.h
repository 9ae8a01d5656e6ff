/* The Socket.IO server (private): Engine.IO v4 sessions over long-polling
 * and WebSocket, Socket.IO v5 on the main namespace, rooms and broadcast.
 * The host table points at the sio_api_* functions; their contracts are the
 * ones of the same-named services in struct sbr_api. */
#ifndef SBR_CORE_SIO_H
#define SBR_CORE_SIO_H

#include <stddef.h>
#include <event2/event.h>
#include <event2/http.h>
#include <superbot-realtime/plugin.h>

struct core_settings;

/* Start serving /socket.io/ requests (the HTTP layer calls sio_http_handle). */
int sio_server_init(struct event_base *base);
/* Settings were reloaded: apply what can change live. */
void sio_server_reload(void);
/* SIGTERM: close every session's transport (WebSocket close, polling close
 * packet; no Socket.IO DISCONNECT, so clients reconnect by themselves) and
 * call done() once all are gone or the timeout passed. */
void sio_server_drain(void (*done)(void));
/* Free everything (after the loop stopped). */
void sio_server_free(void);

/* An HTTP request whose path starts with /socket.io/. */
void sio_http_handle(struct evhttp_request *req);

/* Live Engine.IO sessions on this worker. */
size_t sio_connection_count(void);

/* A room packet from another worker (bus topic "room:<room>"): deliver it to
 * the local members.  `packet` is an encoded Engine.IO packet ("42[...]"). */
void sio_room_deliver(const char *room, const char *packet, size_t len);

/* Host-table services. */
int sio_api_conn_alive(sbr_conn_id conn);
const char *sio_api_conn_query(sbr_conn_id conn, const char *name);
const char *sio_api_conn_header(sbr_conn_id conn, const char *name);
const char *sio_api_conn_remote_addr(sbr_conn_id conn);
int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity);
const sbr_identity *sio_api_conn_identity(sbr_conn_id conn);
int sio_api_conn_disconnect(sbr_conn_id conn, const char *reason);
int sio_api_conn_end(sbr_conn_id conn, const char *code);
int sio_api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason);
int sio_api_message_reply(sbr_message *msg, const char *data_json);
int sio_api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason);
int sio_api_message_reply_args(sbr_message *msg, const char *args_json);
int sio_api_message_emit_args(sbr_message *msg, const char *event, const char *args_json);
/* A message's arguments as a parsed JSON array (owned by the message), or
 * NULL once it is answered.  For api->msg_arg_*. */
struct json_t;
struct json_t *sio_message_args(sbr_message *msg);
int sio_api_namespace_add(sbr_plugin *self, const char *nsp);
const char *sio_api_conn_namespace(sbr_conn_id conn);
int sio_api_room_join(sbr_conn_id conn, const char *room);
int sio_api_room_leave(sbr_conn_id conn, const char *room);
int sio_api_room_contains(sbr_conn_id conn, const char *room);
size_t sio_api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *userdata);
int sio_api_emit(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags);
int sio_api_emit_with_ack(sbr_conn_id conn, const char *event, const char *data_json, uint64_t timeout_ms,
                          void (*fn)(sbr_conn_id conn, const char *args_json, void *userdata), void *userdata);
int sio_api_emit_room(const char *room, const char *event, const char *data_json, sbr_conn_id except, unsigned flags);

#endif
