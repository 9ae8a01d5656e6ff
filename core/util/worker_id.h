/* This worker's identity (layer 0, private): eleven base64url characters
 * (8 random bytes) drawn once at start.  Engine.IO sids begin with it (so
 * another worker can tell whose session it is), the bus plugins use it to
 * drop the echo of their own messages, and plugins name this worker with it
 * in shared records (api->worker_id).  Calls util/base64. */
#ifndef SBR_UTIL_WORKER_ID_H
#define SBR_UTIL_WORKER_ID_H

#define WORKER_ID_LEN 11

/* Draw the id (once: later calls keep it).  0, or -1 when the system has no
 * randomness to give. */
int worker_id_init(void);
/* The id, NUL-terminated; "" before worker_id_init. */
const char *worker_id(void);

#endif
