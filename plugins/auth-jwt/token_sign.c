/* Issuing realtime tokens: the claims as JSON, signed HS256 by libjwt. */
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
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

static json_t *claims_json(const struct token_issue *issue, const char *jti)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    int rc = 0;
    rc |= json_object_set_new(obj, "iss", json_string(issue->issuer));
    rc |= json_object_set_new(obj, "aud", json_string(issue->audience));
    rc |= json_object_set_new(obj, "sub", json_string(issue->sub));
    rc |= json_object_set_new(obj, "iat", json_integer(issue->iat));
    rc |= json_object_set_new(obj, "exp", json_integer(issue->iat + issue->ttl));
    rc |= json_object_set_new(obj, "jti", json_string(jti));
    rc |= json_object_set_new(obj, "servers", string_array(issue->servers, issue->n_servers));
    if (issue->sid)
        rc |= json_object_set_new(obj, "sid", json_string(issue->sid));
    if (issue->has_moderates)
        rc |= json_object_set_new(obj, "moderates", string_array(issue->moderates, issue->n_moderates));
    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

char *token_sign(const struct token_issue *issue, const char *secret, size_t secret_len)
{
    char jti[33];
    if (secret_len == 0 || secret_len > INT_MAX || token_random_id(jti) != 0)
        return NULL;
    json_t *claims = claims_json(issue, jti);
    if (!claims)
        return NULL;
    char *text = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    if (!text)
        return NULL;
    char *token = NULL;
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, text) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)secret_len) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    free(text);
    return token;
}
