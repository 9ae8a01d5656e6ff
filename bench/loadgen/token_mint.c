#include "token_mint.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static size_t base64url(const unsigned char *in, size_t len, char *out, size_t out_size)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t n = (uint32_t)in[i] << 16;
        size_t chunk = len - i < 3 ? len - i : 3;
        if (chunk > 1)
            n |= (uint32_t)in[i + 1] << 8;
        if (chunk > 2)
            n |= in[i + 2];
        if (o + chunk + 2 > out_size)
            return 0;
        out[o++] = alphabet[(n >> 18) & 63];
        out[o++] = alphabet[(n >> 12) & 63];
        if (chunk > 1)
            out[o++] = alphabet[(n >> 6) & 63];
        if (chunk > 2)
            out[o++] = alphabet[n & 63];
    }
    return o;
}

size_t token_mint(const char *secret, const char *sub, const char *server_id, long ttl_seconds,
                  char *out, size_t out_size)
{
    static unsigned long serial;
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char claims[512];
    long now = (long)time(NULL);
    int n;
    if (server_id)
        n = snprintf(claims, sizeof claims,
                     "{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"%s\",\"iat\":%ld,"
                     "\"exp\":%ld,\"jti\":\"lg-%ld-%lu\",\"servers\":[\"%s\"]}",
                     sub, now, now + ttl_seconds, (long)getpid(), ++serial, server_id);
    else
        n = snprintf(claims, sizeof claims,
                     "{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"%s\",\"iat\":%ld,"
                     "\"exp\":%ld,\"jti\":\"lg-%ld-%lu\",\"servers\":[]}",
                     sub, now, now + ttl_seconds, (long)getpid(), ++serial);
    if (n < 0 || (size_t)n >= sizeof claims)
        return 0;

    size_t o = base64url((const unsigned char *)header, sizeof header - 1, out, out_size);
    if (o == 0 || o + 1 >= out_size)
        return 0;
    out[o++] = '.';
    size_t c = base64url((const unsigned char *)claims, (size_t)n, out + o, out_size - o);
    if (c == 0)
        return 0;
    o += c;

    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)out, o, mac, &mac_len))
        return 0;
    if (o + 1 >= out_size)
        return 0;
    out[o++] = '.';
    size_t s = base64url(mac, mac_len, out + o, out_size - o);
    if (s == 0 || o + s >= out_size)
        return 0;
    o += s;
    out[o] = '\0';
    return o;
}
