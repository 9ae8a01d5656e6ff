/* The drain (private to core/sio): on SIGTERM every session's transport
 * closes, and the daemon hears when all are gone or the timeout passed.
 * Calls sio_conn.c and eio. */
#ifndef SBR_SIO_DRAIN_H
#define SBR_SIO_DRAIN_H

/* See sio_server_drain in sio.h. */
void sio_server_drain(void (*done)(void));
/* Free its timer (at exit). */
void sio_drain_free(void);

#endif
