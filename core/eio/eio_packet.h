/* Engine.IO v4 packets and payloads (private).  A packet is a type digit
 * and data; a polling payload joins packets with \x1e; a binary packet is
 * sent raw over WebSocket and as "b<base64>" over polling. */
#ifndef SBR_EIO_PACKET_H
#define SBR_EIO_PACKET_H

#include <stddef.h>
#include <stdint.h>

enum eio_packet_type {
    EIO_OPEN = 0,
    EIO_CLOSE = 1,
    EIO_PING = 2,
    EIO_PONG = 3,
    EIO_MESSAGE = 4,
    EIO_UPGRADE = 5,
    EIO_NOOP = 6
};

#define EIO_RECORD_SEPARATOR '\x1e'

struct eio_packet {
    int type;           /* enum eio_packet_type */
    int binary;         /* a binary message: data is raw bytes */
    const uint8_t *data;
    size_t len;
};

/* Decode one text packet ("4hello", "2probe").  data points into p.
 * Returns 0, or -1 for an empty or unknown packet. */
int eio_packet_decode_text(const char *p, size_t n, struct eio_packet *out);

/* Iterate the packets of a polling payload.  *pos starts at 0; returns 1
 * with the packet in (*p, *n), 0 at the end. */
int eio_payload_next(const char *payload, size_t len, size_t *pos, const char **p, size_t *n);

/* Decode a "b<base64>" polling packet into out (at least (n - 1) / 4 * 3
 * bytes).  Returns the length or -1. */
long eio_packet_decode_base64(const char *p, size_t n, uint8_t *out);

#endif
