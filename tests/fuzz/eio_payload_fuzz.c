/* libFuzzer harness: an Engine.IO v4 polling POST body.
 *
 * Walks the payload as core/eio/eio_transport.c's eio_polling_process does
 * (packets joined by \x1e, "b<base64>" binary packets, a type digit and
 * data), with the same pure decoders, and checks what they promise: packets
 * stay inside the body, base64 output fits the buffer the caller sizes
 * from n.  Each decoded packet is then re-encoded as a shared eio_buf and
 * its WebSocket frame parsed back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eio/eio_buf.h"
#include "eio/eio_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(void) { abort(); }

static void reencode(const void *packet, size_t len, int binary)
{
    struct eio_buf *b = eio_buf_new(packet, len, binary);
    if (!b)
        return;
    size_t flen;
    const uint8_t *frame = eio_buf_frame(b, &flen);
    if (!frame || flen < len + 2 || memcmp(frame + (flen - len), packet, len) != 0)
        fail();
    if (eio_buf_data(b)[len] != '\0')
        fail();
    struct eio_buf *again = eio_buf_ref(b);
    eio_buf_unref(again);
    eio_buf_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The body as evhttp hands it over: exactly size bytes, no NUL. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    size_t live = eio_buf_live();
    size_t pos = 0, packets = 0;
    const char *p;
    size_t n;
    while (eio_payload_next(body, size, &pos, &p, &n)) {
        if (p < body || p + n > body + size)
            fail();
        if (++packets > size + 1)
            fail(); /* the walk must always advance */
        if (n && p[0] == 'b') {
            size_t cap = n / 4 * 3 + 3;
            uint8_t *raw = malloc(cap);
            if (!raw)
                break;
            long rl = eio_packet_decode_base64(p, n, raw);
            if (rl > (long)cap)
                fail();
            if (rl >= 0)
                reencode(raw, (size_t)rl, 1);
            free(raw);
            if (rl < 0)
                break;
            continue;
        }
        struct eio_packet pk;
        if (eio_packet_decode_text(p, n, &pk) != 0)
            break;
        if (pk.type < EIO_OPEN || pk.type > EIO_NOOP || pk.data != (const uint8_t *)p + 1 || pk.len != n - 1)
            fail();
        reencode(p, n, 0);
    }
    if (eio_buf_live() != live)
        fail();
    free(body);
    return 0;
}
