#include <stdlib.h>
#include <string.h>
#include "eio/eio_buf.h"
#include "ws/ws_frame.h"

static size_t bufs_live;

struct eio_buf *eio_buf_alloc(size_t len, int binary)
{
    struct eio_buf *b = malloc(sizeof(*b) + WS_FRAME_HEADER_MAX + len + 1);
    if (!b)
        return NULL;
    b->refs = 1;
    b->binary = binary ? 1 : 0;
    b->len = len;
    uint8_t hdr[WS_FRAME_HEADER_MAX];
    b->header_len = (uint8_t)ws_frame_encode_header(hdr, binary ? WS_OP_BINARY : WS_OP_TEXT, len);
    /* The header ends right where the packet starts, so the frame is one
     * contiguous run of bytes. */
    memcpy(b->bytes + WS_FRAME_HEADER_MAX - b->header_len, hdr, b->header_len);
    b->bytes[WS_FRAME_HEADER_MAX + len] = '\0';
    bufs_live++;
    return b;
}

struct eio_buf *eio_buf_new(const void *packet, size_t len, int binary)
{
    struct eio_buf *b = eio_buf_alloc(len, binary);
    if (b && len)
        memcpy(b->bytes + WS_FRAME_HEADER_MAX, packet, len);
    return b;
}

char *eio_buf_data(struct eio_buf *b)
{
    return b->bytes + WS_FRAME_HEADER_MAX;
}

const uint8_t *eio_buf_frame(const struct eio_buf *b, size_t *len)
{
    *len = b->header_len + b->len;
    return (const uint8_t *)b->bytes + WS_FRAME_HEADER_MAX - b->header_len;
}

struct eio_buf *eio_buf_ref(struct eio_buf *b)
{
    b->refs++;
    return b;
}

void eio_buf_unref(struct eio_buf *b)
{
    if (b && --b->refs == 0) {
        bufs_live--;
        free(b);
    }
}

size_t eio_buf_live(void)
{
    return bufs_live;
}
