/* Recovering a lost connection at its CONNECT (private to core/sio): the
 * steps of docs/ARCHITECTURE.md, "A recovering CONNECT".  A CONNECT whose
 * payload carries a pid looks its session up before the connect chain
 * runs, offers it to the chain (sbr_event_connect.recovery), and once the
 * chain passed takes it, restores the socket id and rooms, and sends what
 * the room log says was missed, before the CONNECT answer.  Every other
 * outcome is a fresh connection.  With recovery on, a fresh connection's
 * answer waits for the room log to hand back what this worker published
 * (room_flush), so what its connect chain emitted precedes `ready`.
 * sio_connect.c calls it, handing its continuations in.  Calls sio_conn.c,
 * sio_emit.c, sio_stream.c, sio_recover_record.c, sio_room.c and the bus. */
#ifndef SBR_SIO_RECOVER_H
#define SBR_SIO_RECOVER_H

#include <jansson.h>
#include "sio/sio_conn.h"

struct sio_recover;

/* Run the connect chain (sio_connect.c). */
typedef void (*sio_recover_chain_fn)(struct sio_conn *c);
/* Send the CONNECT answer and run SBR_EVENT_CONNECTED (sio_connect.c). */
typedef void (*sio_recover_answer_fn)(struct sio_conn *c, int recovered);

/* A CONNECT with its payload (may be NULL) on a connection with a stream:
 * 1 when it asks for a recovery and the session is being looked up (chain
 * runs later, with sbr_event_connect.recovery set when it was found), 0
 * when the chain may run now. */
int sio_recover_begin(struct sio_conn *c, const json_t *auth, sio_recover_chain_fn chain);
/* The chain passed: recover when the session is this connection's, else go
 * on fresh; answer runs once (unless the connection goes away first). */
void sio_recover_accept(struct sio_conn *c, sio_recover_answer_fn answer);
/* The CONNECT is over or abandoned: free the attempt (NULL is fine). */
void sio_recover_free(struct sio_recover *r);

#endif
