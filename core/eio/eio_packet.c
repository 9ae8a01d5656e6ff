#include <string.h>
#include "eio/eio_packet.h"
#include "util/base64.h"

int eio_packet_decode_text(const char *p, size_t n, struct eio_packet *out)
{
    if (n == 0 || p[0] < '0' || p[0] > '6')
        return -1;
    out->type = p[0] - '0';
    out->binary = 0;
    out->data = (const uint8_t *)p + 1;
    out->len = n - 1;
    return 0;
}

int eio_payload_next(const char *payload, size_t len, size_t *pos, const char **p, size_t *n)
{
    if (*pos >= len)
        return 0;
    const char *start = payload + *pos;
    const char *sep = memchr(start, EIO_RECORD_SEPARATOR, len - *pos);
    size_t plen = sep ? (size_t)(sep - start) : len - *pos;
    *p = start;
    *n = plen;
    *pos += plen + 1;
    return 1;
}

long eio_packet_decode_base64(const char *p, size_t n, uint8_t *out)
{
    if (n < 1 || p[0] != 'b')
        return -1;
    return base64_decode(p + 1, n - 1, out);
}
