/* RFC 6455 section 5: base framing. */
#include "ws/ws_frame.h"

static int opcode_known(int op)
{
    return op == WS_OP_CONTINUATION || op == WS_OP_TEXT || op == WS_OP_BINARY ||
           op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

int ws_frame_parse_header(const uint8_t *p, size_t n, struct ws_frame_header *h, uint16_t *close_code)
{
    if (n < 2)
        return 0;
    h->fin = (p[0] & 0x80) != 0;
    h->opcode = p[0] & 0x0F;
    h->masked = (p[1] & 0x80) != 0;
    *close_code = WS_CLOSE_PROTOCOL;
    /* No extension is negotiated, so every reserved bit must be 0. */
    if (p[0] & 0x70)
        return -1;
    if (!opcode_known(h->opcode))
        return -1;
    /* Clients must mask every frame (5.1). */
    if (!h->masked)
        return -1;
    uint64_t len = p[1] & 0x7F;
    size_t pos = 2;
    if (h->opcode & 0x8) {
        /* Control frames: at most 125 bytes, never fragmented (5.5). */
        if (!h->fin || len > 125)
            return -1;
    }
    if (len == 126) {
        if (n < 4)
            return 0;
        len = ((uint64_t)p[2] << 8) | p[3];
        pos = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | p[2 + i];
        if (len >> 63)
            return -1;
        pos = 10;
    }
    if (n < pos + 4)
        return 0;
    for (int i = 0; i < 4; i++)
        h->mask[i] = p[pos + i];
    h->length = len;
    h->header_length = pos + 4;
    *close_code = 0;
    return 1;
}

size_t ws_frame_encode_header(uint8_t out[WS_FRAME_HEADER_MAX], int opcode, uint64_t length)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (length < 126) {
        out[1] = (uint8_t)length;
        return 2;
    }
    if (length <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(length >> 8);
        out[3] = (uint8_t)length;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(length >> (56 - 8 * i));
    return 10;
}

void ws_frame_unmask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < n; i++)
        p[i] ^= mask[(offset + i) & 3];
}

int ws_close_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return 1;
    switch (code) {
    case 1000: case 1001: case 1002: case 1003: case 1007: case 1008:
    case 1009: case 1010: case 1011: case 1012: case 1013: case 1014:
        return 1;
    default:
        return 0;
    }
}
