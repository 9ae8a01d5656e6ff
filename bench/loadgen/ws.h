/* RFC 6455, client side: the opening handshake key, masked frames out,
 * frame headers in. */
#ifndef LOADGEN_WS_H
#define LOADGEN_WS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

enum ws_opcode {
    WS_CONTINUATION = 0x0,
    WS_TEXT = 0x1,
    WS_BINARY = 0x2,
    WS_CLOSE = 0x8,
    WS_PING = 0x9,
    WS_PONG = 0xA,
};

#define WS_KEY_LEN 24      /* base64 of 16 random bytes */
#define WS_ACCEPT_LEN 28   /* base64 of a SHA-1 */

/* A fresh Sec-WebSocket-Key, NUL-terminated. */
void ws_make_key(char out[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept a server must answer to key, NUL-terminated. */
void ws_expected_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* Append one final, masked frame whose payload is prefix followed by data
 * (either may be empty) to out.  0 on success, -1 if out cannot grow. */
int ws_write_frame(struct evbuffer *out, enum ws_opcode opcode, const char *prefix, size_t prefix_len,
                   const char *data, size_t len);

struct ws_frame_header {
    int fin;
    enum ws_opcode opcode;
    int masked;
    uint8_t mask[4];
    uint64_t payload_len;
    size_t header_len;
};

/* Parse a frame header from the first avail bytes of buf.  1: parsed; 0: more
 * bytes needed; -1: not a valid frame. */
int ws_parse_header(const unsigned char *buf, size_t avail, struct ws_frame_header *h);

#endif
