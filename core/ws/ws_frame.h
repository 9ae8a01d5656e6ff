/* RFC 6455 frame codec (private): parse client frame headers, encode server
 * frame headers, unmask payloads.  Pure functions, no I/O. */
#ifndef SBR_WS_FRAME_H
#define SBR_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA
};

/* Close codes we send. */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_BAD_DATA = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011
};

/* The largest server frame header: 2 bytes + 8-byte length. */
#define WS_FRAME_HEADER_MAX 10

struct ws_frame_header {
    int fin;
    int opcode;
    int masked;
    uint8_t mask[4];
    uint64_t length;     /* payload length */
    size_t header_length;
};

/* Parse a client frame header from the first n bytes of p.  Returns 1 with
 * *h filled, 0 if more bytes are needed, or -1 with *close_code set when
 * the header breaks the protocol (reserved bits, unknown opcode, unmasked,
 * fragmented or oversized control frame, length with the top bit set). */
int ws_frame_parse_header(const uint8_t *p, size_t n, struct ws_frame_header *h, uint16_t *close_code);

/* Write the header of an unmasked, final server frame into out; returns its
 * length (2, 4 or 10). */
size_t ws_frame_encode_header(uint8_t out[WS_FRAME_HEADER_MAX], int opcode, uint64_t length);

/* XOR p with the mask, `offset` bytes into the payload. */
void ws_frame_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);

/* A close code a peer may send (RFC 6455 7.4). */
int ws_close_code_valid(unsigned code);

#endif
