/* Requests for sessions of other workers (private to core/eio): the entry
 * of relaying, for the transport and the server (see eio_relay.h for its
 * parts). */
#ifndef SBR_EIO_FORWARD_H
#define SBR_EIO_FORWARD_H

#include <event2/event.h>
#include <event2/http.h>

/* Relay requests under `path` and advertise `advertised` as this worker's
 * address.  0 or -1. */
int eio_forward_init(struct event_base *base, const char *path, const char *advertised);
/* Answer relays in flight 503, end tunnels, forget peers (at exit). */
void eio_forward_free(void);
/* A polling request or a WebSocket upgrade names a sid of another worker:
 * relay it to that worker.  Returns 1 if it was taken care of (answered
 * now or later), 0 if it cannot be forwarded (the sid is not another
 * worker's). */
int eio_forward_request(struct evhttp_request *req, const char *sid, int websocket);

#endif
