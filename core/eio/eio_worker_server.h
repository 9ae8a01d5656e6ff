/* The worker address (private to core/eio): a private HTTP server where
 * the other workers relay requests for this worker's sessions. */
#ifndef SBR_EIO_WORKER_SERVER_H
#define SBR_EIO_WORKER_SERVER_H

#include <stddef.h>
#include <event2/event.h>

/* Bind `worker_listen`, serve Engine.IO's requests under path there (never
 * relaying them again), and write the address to advertise (the
 * `worker_advertise` setting, else the bound address) into advertised.
 * 0, or -1 after logging why. */
int eio_worker_server_start(struct event_base *base, const char *path, char *advertised, size_t len);
void eio_worker_server_free(void);

#endif
