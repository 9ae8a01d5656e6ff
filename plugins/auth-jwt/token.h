/* Realtime and session tokens (private to auth-jwt): HS256 signing and
 * verification with every claim check libjwt 1.10 leaves to its caller.
 * Pure: no host services, the time is an argument, so tests fix the clock. */
#ifndef AUTH_JWT_TOKEN_H
#define AUTH_JWT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Longest user, session or server id; room names ("session:<sid>") stay
 * well under the core's 255 bytes. */
#define TOKEN_ID_MAX 200

enum token_error {
    TOKEN_OK = 0,
    TOKEN_ERR_OVERSIZE,         /* longer than max_bytes */
    TOKEN_ERR_MALFORMED,        /* not three base64url segments of JSON objects */
    TOKEN_ERR_ALG,              /* header alg other than HS256, or a crit header */
    TOKEN_ERR_SIGNATURE,        /* the HS256 signature does not match */
    TOKEN_ERR_EXPIRED,          /* exp passed */
    TOKEN_ERR_NOT_YET_VALID,    /* nbf in the future */
    TOKEN_ERR_ISSUED_IN_FUTURE, /* iat in the future */
    TOKEN_ERR_AUDIENCE,         /* aud missing, or not ours */
    TOKEN_ERR_ISSUER,           /* iss missing, or not ours */
    TOKEN_ERR_SUBJECT,          /* sub missing, empty or not an id */
    TOKEN_ERR_CLAIMS,           /* exp missing (strict), or a claim of the wrong shape */
    TOKEN_ERR_NOMEM
};

/* A short stable name for logs and metric labels ("expired", ...). */
const char *token_error_name(enum token_error err);

/* What a token proves. Every string is owned (free with token_claims_free). */
struct token_claims {
    char *sub;
    char *sid;        /* NULL when absent */
    char *jti;        /* NULL when absent */
    char **servers;   /* n_servers strings, the array NULL when empty */
    size_t n_servers;
    char **moderates;
    size_t n_moderates;
    int has_moderates; /* the claim was present (even empty) */
    int64_t iat;      /* 0 when absent */
    int64_t exp;      /* 0 when absent */
};

void token_claims_free(struct token_claims *claims);

/* How to judge a token. */
struct token_rules {
    const char *secret;
    size_t secret_len;
    const char *audience; /* NULL: aud is not checked */
    const char *issuer;   /* NULL: iss is not checked */
    int64_t now;          /* unix seconds */
    int64_t leeway;       /* seconds of clock skew allowed on exp, nbf, iat */
    size_t max_bytes;
    /* Realtime tokens: exp is required and ids are strings.  Session tokens
     * of the primary app (0): exp is checked when present, and integer ids
     * (sub, sid, servers) are accepted and read as decimal text. */
    int strict;
    /* exp must be present (always so when strict). */
    int require_exp;
    /* Refuse a token whose aud contains this (NULL: none), so a realtime
     * token is never taken for a session bearer when both secrets agree. */
    const char *refuse_audience;
};

/* Verify `token` (len bytes, no NUL inside) and fill *out on TOKEN_OK.
 * The signature is checked before any claim is believed. */
enum token_error token_verify(const char *token, size_t len, const struct token_rules *rules,
                              struct token_claims *out);

/* 1 if s (len bytes) is a usable id: 1..TOKEN_ID_MAX bytes, no control
 * characters. */
int token_id_valid(const char *s, size_t len);

/* What a realtime token says about its holder; strings are borrowed. */
struct token_issue {
    const char *issuer;
    const char *audience;
    const char *sub;
    const char *sid;              /* NULL: no sid claim */
    const char *const *servers;   /* always written, maybe [] */
    size_t n_servers;
    const char *const *moderates; /* written when has_moderates */
    size_t n_moderates;
    int has_moderates;
    int64_t iat;
    int64_t ttl;
};

/* Sign a realtime token with HS256 (libjwt) and a fresh random 128-bit
 * jti.  Returns a malloc'd string, or NULL (out of memory, no randomness). */
char *token_sign(const struct token_issue *issue, const char *secret, size_t secret_len);

/* 32 hex digits from 128 bits of the kernel's randomness into buf[33];
 * 0 on success. */
int token_random_id(char buf[33]);

/* The credential of an "Authorization: Bearer <credential>" header value:
 * sets *len and returns a pointer into `header`, or NULL when the header is
 * NULL, another scheme, or carries no credential. */
const char *token_bearer(const char *header, size_t *len);

#endif
