/* The polling side of a session (private to core/eio): its queue and the
 * answers to its GETs.  Calls the base layer, net (through eio_reply.c)
 * and the shared buffers; never the session table. */
#ifndef SBR_EIO_POLLING_H
#define SBR_EIO_POLLING_H

#include "eio/eio_internal.h"

/* Append to the queue (the queue takes the caller's reference); 0 or -1. */
int eio_polling_push(struct eio_session *s, struct eio_buf *b);
/* Queue the close packet of a closing session (which takes no other
 * packet): it answers a GET of its own. */
void eio_polling_queue_close(struct eio_session *s);
/* Answer the pending GET with the queued packets (or a noop if none and
 * noop_if_empty).  Returns 1 when the answer carried the close packet of a
 * closing session: the caller then ends the session. */
int eio_polling_flush(struct eio_session *s, int noop_if_empty);
/* Answer the pending GET with a noop, leaving the queue alone (upgrade). */
void eio_polling_noop(struct eio_session *s);

#endif
