/* The client side of Engine.IO v4 / Socket.IO v5 over WebSocket only, as
 * socket.io-client does it with transports: ["websocket"]: upgrade request
 * with the token in the query, wait for the Engine.IO open packet, send the
 * Socket.IO CONNECT "40", wait for its "40{...}", answer pings. */
#ifndef LOADGEN_SIO_CLIENT_H
#define LOADGEN_SIO_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct endpoint;
struct sio_client;

struct sio_client_handler {
    /* The Socket.IO CONNECT was accepted. */
    void (*on_ready)(struct sio_client *c);
    /* A Socket.IO packet after the handshake, without the Engine.IO "4":
     * "2[...]" an event, "3<id>[...]" an ack.  Valid during the call only. */
    void (*on_packet)(struct sio_client *c, const char *packet, size_t len);
    /* The connection failed or was closed by the server; `reason` says why.
     * The client is freed when this returns: drop every pointer to it. */
    void (*on_close)(struct sio_client *c, const char *reason);
};

/* Start connecting to ep from source address index (see net_socket_from).
 * NULL when no socket could be opened (errno set). */
struct sio_client *sio_client_open(struct event_base *base, const struct endpoint *ep, const char *token,
                                   unsigned source_index, unsigned source_spread,
                                   const struct sio_client_handler *handler, void *userdata);

/* Read an already connected socket as a client past its handshake: frames
 * are parsed and handed to on_packet as for any ready client (on_ready is not
 * called).  The floor's relay speaks this way, so that the load tool does
 * the same work per delivery against it as against a server.  NULL on
 * failure (fd is then left open). */
struct sio_client *sio_client_adopt(struct event_base *base, int fd, const struct sio_client_handler *handler,
                                   void *userdata);

void *sio_client_userdata(const struct sio_client *c);
/* When sio_client_open was called (clock_now_us). */
uint64_t sio_client_started_us(const struct sio_client *c);
/* Whether the Socket.IO CONNECT was accepted (still true in on_close). */
int sio_client_was_connected(const struct sio_client *c);

/* Send one Socket.IO packet (e.g. `21["join_channel",{...}]`) as an Engine.IO
 * message.  -1 if the client is not ready or the buffer cannot grow. */
int sio_client_send(struct sio_client *c, const char *packet, size_t len);

/* Close without a callback; safe from the client's own callbacks. */
void sio_client_close(struct sio_client *c);

/* Whether an ack packet carries "ok": true (with or without blanks). */
int sio_ack_ok(const char *packet, size_t len);

#endif
