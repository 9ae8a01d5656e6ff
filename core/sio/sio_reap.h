/* Closing and freeing (private to core/sio): a connection is closed at
 * once (rooms left, acks cancelled, disconnect hooks run) and freed at the
 * end of the loop turn, with the disconnects asked and the sessions
 * dropped meanwhile, so that nothing is freed under a hook or a callback
 * that may still touch it.  Calls sio_conn.c, sio_emit.c, sio_room.c,
 * sio_ack.c, hooks and eio. */
#ifndef SBR_SIO_REAP_H
#define SBR_SIO_REAP_H

#include "sio/sio_conn.h"

/* Mark a connection closed now (rooms left, disconnect hooks run), free later. */
void sio_conn_close(struct sio_conn *c, const char *reason);
/* The client's session is over: close its connections, free it later. */
void sio_client_closed(struct sio_client *cl, const char *reason);
/* The connect chain is over: free its state. */
void sio_connect_state_free(struct sio_conn *c);
/* Free a connection now (at exit, or from the reap). */
void sio_conn_free(struct sio_conn *c);
/* The same, taking it off its client's list first. */
void sio_conn_unlink_free(struct sio_conn *c);
/* The deferred work of the loop turn (an event callback; see sio_conn_table_init). */
void sio_reap_run(evutil_socket_t fd, short what, void *arg);

#endif
