/* libFuzzer harness: auth-jwt's pure token verification with a fixed secret
 * and a fixed clock.
 *
 * Even first byte: the rest is a token as a client sends it, judged as a
 * realtime token (strict) and as a session bearer of the primary app.  Odd
 * first byte: the rest is "<header JSON>\n<payload JSON>", which the harness
 * encodes and signs with the right secret, so the claim checks behind the
 * signature (exp, nbf, iat, aud, iss, sub, sid, servers, moderates) see
 * fuzzed values too.  Nothing may crash or leak; an accepted token has a
 * valid subject and ids, and no token passes with a wrong secret. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-secret-0123456789abcdef0123";
static const char wrong_secret[] = "fuzz-secret-0123456789abcdef0124";

static void fail(void) { abort(); }

static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
    }
    return o;
}

static void check_claims(const struct token_claims *c)
{
    if (!c->sub || !token_id_valid(c->sub, strlen(c->sub)))
        fail();
    if (c->sid && !token_id_valid(c->sid, strlen(c->sid)))
        fail();
    for (size_t i = 0; i < c->n_servers; i++)
        if (!c->servers[i] || !token_id_valid(c->servers[i], strlen(c->servers[i])))
            fail();
    for (size_t i = 0; i < c->n_moderates; i++)
        if (!c->moderates[i])
            fail();
}

static void judge(const char *token, size_t len, int must_fail)
{
    struct token_rules rules = {
        .secret = must_fail ? wrong_secret : secret,
        .secret_len = sizeof(secret) - 1,
        .audience = "superbot-realtime",
        .issuer = "superbot",
        .now = 1700000100,
        .leeway = 5,
        .max_bytes = 8192,
        .strict = 1,
    };
    struct token_claims claims;
    for (int round = 0; round < 2; round++) {
        memset(&claims, 0, sizeof(claims));
        enum token_error e = token_verify(token, len, &rules, &claims);
        if (token_error_name(e) == NULL)
            fail();
        if (e == TOKEN_OK) {
            if (must_fail)
                fail();
            check_claims(&claims);
            token_claims_free(&claims);
        }
        /* The primary app's session bearer: lenient ids, no aud/iss. */
        rules.strict = 0;
        rules.audience = NULL;
        rules.issuer = NULL;
        rules.refuse_audience = "superbot-realtime";
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 6000)
        return 0;
    int sign = data[0] & 1;
    data++;
    size--;
    if (!sign) {
        char *token = malloc(size ? size : 1);
        if (!token)
            return 0;
        memcpy(token, data, size);
        judge(token, size, 0);
        size_t blen = 0;
        const char *cred;
        char *header = malloc(size + 1);
        if (header) {
            memcpy(header, data, size);
            header[size] = '\0';
            cred = token_bearer(header, &blen);
            if (cred && (cred < header || cred + blen > header + size))
                fail();
            free(header);
        }
        free(token);
        return 0;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    const uint8_t *hdr = (const uint8_t *)"{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    size_t hdr_len = strlen((const char *)hdr);
    const uint8_t *payload = data;
    size_t payload_len = size;
    if (nl) {
        hdr = data;
        hdr_len = (size_t)(nl - data);
        payload = nl + 1;
        payload_len = size - hdr_len - 1;
    }
    size_t cap = (hdr_len + payload_len) / 3 * 4 + 64 + 8;
    char *token = malloc(cap);
    if (!token)
        return 0;
    size_t n = b64url(hdr, hdr_len, token);
    token[n++] = '.';
    n += b64url(payload, payload_len, token + n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)(sizeof(secret) - 1), (const unsigned char *)token, n, mac, &mac_len))
        fail();
    token[n++] = '.';
    n += b64url(mac, mac_len, token + n);
    judge(token, n, 0);
    judge(token, n, 1);
    free(token);
    return 0;
}
