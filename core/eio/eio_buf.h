/* A shared, reference-counted Engine.IO packet (private).
 *
 * One broadcast is encoded once into one eio_buf: the packet text, preceded
 * by its WebSocket frame header (server frames are unmasked, so the header
 * is the same for every socket).  WebSocket sessions queue the frame by
 * reference; polling sessions queue the buffer and join packets with \x1e. */
#ifndef SBR_EIO_BUF_H
#define SBR_EIO_BUF_H

#include <stddef.h>
#include <stdint.h>

struct eio_buf {
    unsigned refs;
    unsigned binary : 1;  /* a binary message (raw bytes; base64 on polling) */
    uint8_t header_len;
    size_t len;           /* packet length (text, or raw bytes when binary) */
    char bytes[];         /* WS_FRAME_HEADER_MAX reserved, the packet, a NUL */
};

/* A new buffer holding the packet (one reference). */
struct eio_buf *eio_buf_new(const void *packet, size_t len, int binary);
/* A new buffer of len bytes to fill through eio_buf_data() before use. */
struct eio_buf *eio_buf_alloc(size_t len, int binary);
char *eio_buf_data(struct eio_buf *b);
/* The WebSocket frame (header + packet), computed when the buffer is made. */
const uint8_t *eio_buf_frame(const struct eio_buf *b, size_t *len);
struct eio_buf *eio_buf_ref(struct eio_buf *b);
void eio_buf_unref(struct eio_buf *b);
/* Buffers alive (tests and metrics). */
size_t eio_buf_live(void);

#endif
