/* Issuing realtime tokens: the claims as JSON, signed HS256 by libjwt. */
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/random.h>

#include <jansson.h>
#include <jwt.h>

int token_random_id(char buf[33])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        buf[2 * i] = hex[raw[i] >> 4];
        buf[2 * i + 1] = hex[raw[i] & 0xf];
    }
    buf[32] = '\0';
    return 0;
}

static json_t *string_array(const char *const *items, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        if (json_array_append_new(arr, json_string(items[i])) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* libjwt 1.10 takes arrays only as JSON text: {"servers": [...], ...}. */
static char *arrays_json(const struct token_issue *issue)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    int rc = json_object_set_new(obj, "servers", string_array(issue->servers, issue->n_servers));
    if (issue->has_moderates)
        rc |= json_object_set_new(obj, "moderates", string_array(issue->moderates, issue->n_moderates));
    char *text = rc == 0 ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    return text;
}

/* Scalars go in one by one, sparing libjwt a parse of the whole payload. */
static int claims_add(jwt_t *jwt, const struct token_issue *issue, const char *jti)
{
    if (!issue->issuer || !issue->audience || !issue->sub)
        return -1;
    if (jwt_add_grant(jwt, "iss", issue->issuer) || jwt_add_grant(jwt, "aud", issue->audience) ||
        jwt_add_grant(jwt, "sub", issue->sub) || jwt_add_grant_int(jwt, "iat", (long)issue->iat) ||
        jwt_add_grant_int(jwt, "exp", (long)(issue->iat + issue->ttl)) || jwt_add_grant(jwt, "jti", jti))
        return -1;
    if (issue->sid && jwt_add_grant(jwt, "sid", issue->sid))
        return -1;
    char *arrays = arrays_json(issue);
    int rc = arrays ? jwt_add_grants_json(jwt, arrays) : -1;
    free(arrays);
    return rc ? -1 : 0;
}

char *token_sign(const struct token_issue *issue, const char *secret, size_t secret_len)
{
    char jti[33];
    if (secret_len == 0 || secret_len > INT_MAX || token_random_id(jti) != 0)
        return NULL;
    char *token = NULL;
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) == 0 && claims_add(jwt, issue, jti) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)secret_len) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}
