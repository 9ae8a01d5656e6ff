#include "ws.h"

#include <string.h>
#include <event2/buffer.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* xorshift: mask keys need only be unpredictable to intermediaries, and the
 * load tool masks hundreds of thousands of frames a second. */
static uint32_t mask_state = 2463534242u;

static uint32_t next_mask(void)
{
    mask_state ^= mask_state << 13;
    mask_state ^= mask_state >> 17;
    mask_state ^= mask_state << 5;
    return mask_state;
}

void ws_make_key(char out[WS_KEY_LEN + 1])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        for (size_t i = 0; i < sizeof raw; i += 4) {
            uint32_t r = next_mask();
            memcpy(raw + i, &r, 4);
        }
    }
    EVP_EncodeBlock((unsigned char *)out, raw, sizeof raw);
}

void ws_expected_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char joined[WS_KEY_LEN + sizeof guid];
    size_t klen = strlen(key);
    if (klen > WS_KEY_LEN)
        klen = WS_KEY_LEN;
    memcpy(joined, key, klen);
    memcpy(joined + klen, guid, sizeof guid - 1);
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)joined, klen + sizeof guid - 1, digest);
    EVP_EncodeBlock((unsigned char *)out, digest, sizeof digest);
}

int ws_write_frame(struct evbuffer *out, enum ws_opcode opcode, const char *prefix, size_t prefix_len,
                   const char *data, size_t len)
{
    size_t payload = prefix_len + len;
    size_t header = payload < 126 ? 2 : payload <= 0xffff ? 4 : 10;
    struct evbuffer_iovec vec;
    /* Reserve one contiguous extent: the frame is written in place. */
    if (evbuffer_reserve_space(out, (ev_ssize_t)(header + 4 + payload), &vec, 1) < 1)
        return -1;
    unsigned char *p = vec.iov_base;
    p[0] = (unsigned char)(0x80 | opcode);
    if (header == 2) {
        p[1] = (unsigned char)(0x80 | payload);
    } else if (header == 4) {
        p[1] = 0x80 | 126;
        p[2] = (unsigned char)(payload >> 8);
        p[3] = (unsigned char)payload;
    } else {
        p[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            p[2 + i] = (unsigned char)((uint64_t)payload >> (56 - 8 * i));
    }
    uint32_t key = next_mask();
    unsigned char *mask = p + header;
    memcpy(mask, &key, 4);
    unsigned char *body = mask + 4;
    if (prefix_len)
        memcpy(body, prefix, prefix_len);
    if (len)
        memcpy(body + prefix_len, data, len);
    for (size_t i = 0; i < payload; i++)
        body[i] ^= mask[i & 3];
    vec.iov_len = header + 4 + payload;
    return evbuffer_commit_space(out, &vec, 1) == 0 ? 0 : -1;
}

int ws_parse_header(const unsigned char *buf, size_t avail, struct ws_frame_header *h)
{
    if (avail < 2)
        return 0;
    h->fin = (buf[0] & 0x80) != 0;
    h->opcode = (enum ws_opcode)(buf[0] & 0x0f);
    if (buf[0] & 0x70)
        return -1;  /* no extension was negotiated */
    h->masked = (buf[1] & 0x80) != 0;
    uint64_t len = buf[1] & 0x7f;
    size_t pos = 2;
    if (len == 126) {
        if (avail < 4)
            return 0;
        len = ((uint64_t)buf[2] << 8) | buf[3];
        pos = 4;
    } else if (len == 127) {
        if (avail < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | buf[2 + i];
        pos = 10;
    }
    if (h->masked) {
        if (avail < pos + 4)
            return 0;
        memcpy(h->mask, buf + pos, 4);
        pos += 4;
    }
    h->payload_len = len;
    h->header_len = pos;
    return 1;
}
