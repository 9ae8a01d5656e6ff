/* The inbound event rate of a connection (private to core/sio).  Calls
 * sio_conn.c, sio_emit.c and sio_end.c. */
#ifndef SBR_SIO_RATE_H
#define SBR_SIO_RATE_H

#include "sio/sio_conn.h"

enum sio_rate_verdict { SIO_RATE_OK, SIO_RATE_LIMITED, SIO_RATE_ABUSE };
/* Count one client event against the connection's inbound rate; past it,
 * *retry_after_ms is what is left of the window. */
enum sio_rate_verdict sio_rate_check(struct sio_conn *c, uint64_t *retry_after_ms);
/* An event past the rate: answer its ack with rate_limited (LIMITED), or
 * end the connection (ABUSE: past twice the rate). */
void sio_rate_refuse(struct sio_conn *c, const struct sio_packet *pk, enum sio_rate_verdict verdict,
                     uint64_t retry_after_ms);

#endif
