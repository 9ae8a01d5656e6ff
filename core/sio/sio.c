/* The Socket.IO server: minimal placeholder so the daemon links; every
 * service answers as if no client were connected. */
#include "sio/sio.h"

int sio_server_init(struct event_base *base) { (void)base; return 0; }
void sio_server_reload(void) {}
void sio_server_drain(void (*done)(void)) { if (done) done(); }
void sio_server_free(void) {}
void sio_http_handle(struct evhttp_request *req) { evhttp_send_error(req, 503, "Unavailable"); }
size_t sio_connection_count(void) { return 0; }
void sio_room_deliver(const char *room, const char *packet, size_t len) { (void)room; (void)packet; (void)len; }
int sio_api_conn_alive(sbr_conn_id conn) { (void)conn; return 0; }
const char *sio_api_conn_query(sbr_conn_id conn, const char *name) { (void)conn; (void)name; return NULL; }
const char *sio_api_conn_header(sbr_conn_id conn, const char *name) { (void)conn; (void)name; return NULL; }
const char *sio_api_conn_remote_addr(sbr_conn_id conn) { (void)conn; return NULL; }
int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity) { (void)conn; (void)identity; return SBR_ERR_GONE; }
const sbr_identity *sio_api_conn_identity(sbr_conn_id conn) { (void)conn; return NULL; }
int sio_api_conn_disconnect(sbr_conn_id conn, const char *reason) { (void)conn; (void)reason; return SBR_ERR_GONE; }
int sio_api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason) { (void)conn; (void)verdict; (void)reason; return SBR_ERR_GONE; }
int sio_api_message_reply(sbr_message *msg, const char *data_json) { (void)msg; (void)data_json; return SBR_ERR_GONE; }
int sio_api_message_resume(sbr_message *msg, enum sbr_verdict verdict, const char *reason) { (void)msg; (void)verdict; (void)reason; return SBR_ERR_GONE; }
int sio_api_namespace_add(sbr_plugin *self, const char *nsp) { (void)self; (void)nsp; return SBR_OK; }
const char *sio_api_conn_namespace(sbr_conn_id conn) { (void)conn; return NULL; }
int sio_api_room_join(sbr_conn_id conn, const char *room) { (void)conn; (void)room; return SBR_ERR_GONE; }
int sio_api_room_leave(sbr_conn_id conn, const char *room) { (void)conn; (void)room; return SBR_ERR_GONE; }
int sio_api_room_contains(sbr_conn_id conn, const char *room) { (void)conn; (void)room; return 0; }
size_t sio_api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *userdata) { (void)room; (void)fn; (void)userdata; return 0; }
int sio_api_emit(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags) { (void)conn; (void)event; (void)data_json; (void)flags; return SBR_ERR_GONE; }
int sio_api_emit_room(const char *room, const char *event, const char *data_json, sbr_conn_id except, unsigned flags) { (void)room; (void)event; (void)data_json; (void)except; (void)flags; return SBR_OK; }
