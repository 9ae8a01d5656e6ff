/* Connection-level lines at log_level = debug (private to core/sio):
 * connects, refusals, rooms, endings, refused events, each with the
 * connection's fields; nothing is prepared below that level.  Calls the
 * log and eio. */
#ifndef SBR_SIO_LOG_H
#define SBR_SIO_LOG_H

#include "sio/sio_conn.h"

void sio_log_connected(const struct sio_conn *c);
void sio_log_refused(const struct sio_conn *c, const char *reason);
void sio_log_closed(const struct sio_conn *c, const char *reason);
void sio_log_room(const struct sio_conn *c, const char *room, int joined);
/* A client event answered with an error ("unknown_event" included). */
void sio_log_event_refused(const struct sio_conn *c, const char *event, const char *reason);
/* A plugin answered an event: logged when the answer is {"ok": false, "error": ...}. */
void sio_log_reply(const struct sio_conn *c, const char *event, const char *data_json);

#endif
