/* libFuzzer harness: a client byte stream after the WebSocket handshake.
 *
 * The stream is decoded as core/ws/ws_conn.c's read loop does it, with the
 * same pure pieces: frame headers (ws_frame_parse_header), unmasking, the
 * size bound, fragment reassembly and incremental UTF-8 checks, close
 * payloads.  The first input byte picks the message bound so that the
 * too-big paths are reached with small inputs.  Also fed to the handshake
 * key digest and base64, which see the same untrusted bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"
#include "ws/ws_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(void) { abort(); }

static void check_close_payload(const uint8_t *p, size_t len)
{
    if (len < 2)
        return;
    unsigned code = ((unsigned)p[0] << 8) | p[1];
    (void)ws_close_code_valid(code);
    struct ws_utf8 u;
    ws_utf8_reset(&u);
    (void)(ws_utf8_feed(&u, p + 2, len - 2) || !ws_utf8_complete(&u));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const size_t bounds[] = {0, 1, 16, 125, 126, 65535, 65536, 1000000};
    size_t max_message = bounds[data[0] & 7];
    data++;
    size--;

    /* A private copy: the decoder unmasks in place. */
    uint8_t *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    size_t pos = 0;
    uint8_t *frag = NULL;
    size_t frag_len = 0;
    int in_message = 0, frag_binary = 0;
    struct ws_utf8 utf8;
    ws_utf8_reset(&utf8);
    for (int frames = 0; frames < 4096; frames++) {
        size_t avail = size - pos;
        if (avail < 2)
            break;
        struct ws_frame_header h;
        uint16_t code = 0;
        int r = ws_frame_parse_header(in + pos, avail < 14 ? avail : 14, &h, &code);
        if (r < 0) {
            if (code == 0)
                fail(); /* a refusal always says why */
            break;
        }
        if (r == 0)
            break;
        if (h.header_length < 6 || h.header_length > 14 || !h.masked)
            fail();
        if ((h.opcode & 0x8) && (!h.fin || h.length > 125))
            fail();
        if (!(h.opcode & 0x8) && (h.length > max_message || frag_len + h.length > max_message))
            break; /* 1009 */
        if (avail - h.header_length < h.length)
            break;
        pos += h.header_length;
        size_t len = (size_t)h.length;
        uint8_t *p = in + pos;
        ws_frame_unmask(p, len, h.mask, 0);
        pos += len;
        if (h.opcode == WS_OP_CLOSE) {
            check_close_payload(p, len);
            break;
        }
        if (h.opcode & 0x8)
            continue;
        int starts = h.opcode != WS_OP_CONTINUATION;
        if (starts == in_message)
            break; /* a new message inside one, or a stray continuation */
        int binary = starts ? h.opcode == WS_OP_BINARY : frag_binary;
        if (starts)
            ws_utf8_reset(&utf8);
        if (!binary && ws_utf8_feed(&utf8, p, len))
            break;
        if (h.fin && !binary && !ws_utf8_complete(&utf8))
            break;
        if (starts) {
            in_message = 1;
            frag_binary = binary;
        }
        uint8_t *grown = realloc(frag, frag_len + len + 1);
        if (!grown)
            break;
        frag = grown;
        if (len)
            memcpy(frag + frag_len, p, len);
        frag_len += len;
        if (h.fin) {
            if (frag_len > max_message)
                fail();
            in_message = 0;
            frag_len = 0;
        }
    }
    free(frag);
    free(in);

    /* Server frame headers round-trip through the client parser once masked. */
    uint64_t want = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        want = (want << 8) | data[i];
    want &= 0x7FFFFFFFFFFFFFFFull;
    uint8_t hdr[WS_FRAME_HEADER_MAX + 4];
    size_t hl = ws_frame_encode_header(hdr, WS_OP_BINARY, want);
    hdr[1] |= 0x80;
    memset(hdr + hl, 0, 4);
    struct ws_frame_header back;
    uint16_t code;
    if (ws_frame_parse_header(hdr, hl + 4, &back, &code) != 1 || back.length != want || back.opcode != WS_OP_BINARY)
        fail();

    /* The handshake key: any bytes, as a NUL-terminated string. */
    char *key = malloc(size + 1);
    if (key) {
        memcpy(key, data, size);
        key[size] = '\0';
        char accept[WS_ACCEPT_LEN + 1];
        ws_accept_key(key, accept);
        if (strlen(accept) != WS_ACCEPT_LEN)
            fail();
        uint8_t *raw = malloc(size / 4 * 3 + 3);
        if (raw) {
            long n = base64_decode(key, size, raw);
            if (n > (long)(size / 4 * 3))
                fail();
            free(raw);
        }
        free(key);
    }
    return 0;
}
