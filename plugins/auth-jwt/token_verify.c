/* Verifying HS256 tokens.  libjwt 1.10 checks the signature only (in
 * constant time since Debian's fix of CVE-2024-25189) and trusts the
 * header's alg, so the header, the time claims and the identity claims are
 * all judged here. */
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <jwt.h>

#include "base64url.h"
#include "claims.h"

/* NumericDates beyond this (about year 33658) are nonsense, and keeping
 * them small means adding the leeway can never overflow. */
#define TOKEN_DATE_MAX 1000000000000LL

const char *token_error_name(enum token_error err)
{
    switch (err) {
    case TOKEN_OK: return "ok";
    case TOKEN_ERR_OVERSIZE: return "oversize";
    case TOKEN_ERR_MALFORMED: return "malformed";
    case TOKEN_ERR_ALG: return "bad_alg";
    case TOKEN_ERR_SIGNATURE: return "bad_signature";
    case TOKEN_ERR_EXPIRED: return "expired";
    case TOKEN_ERR_NOT_YET_VALID: return "not_yet_valid";
    case TOKEN_ERR_ISSUED_IN_FUTURE: return "issued_in_future";
    case TOKEN_ERR_AUDIENCE: return "bad_audience";
    case TOKEN_ERR_ISSUER: return "bad_issuer";
    case TOKEN_ERR_SUBJECT: return "bad_subject";
    case TOKEN_ERR_CLAIMS: return "bad_claims";
    case TOKEN_ERR_NOMEM: return "no_memory";
    }
    return "unknown";
}

static void strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void token_claims_free(struct token_claims *claims)
{
    free(claims->sub);
    free(claims->sid);
    free(claims->jti);
    strings_free(claims->servers, claims->n_servers);
    strings_free(claims->moderates, claims->n_moderates);
    memset(claims, 0, sizeof(*claims));
}

int token_id_valid(const char *s, size_t len)
{
    if (len == 0 || len > TOKEN_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* One base64url segment holding a JSON object, or NULL.  Duplicate keys
 * are refused: two parsers must never read two different claims. */
static json_t *segment_json(const char *src, size_t len)
{
    size_t n;
    unsigned char *raw = base64url_decode(src, len, &n);
    if (!raw)
        return NULL;
    json_t *obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Only {"alg": "HS256"} with an optional "typ" of JWT: anything asking for
 * extensions we do not implement (crit) is refused too. */
static enum token_error header_check(const json_t *header)
{
    const json_t *alg = json_object_get(header, "alg");
    if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0 || json_string_length(alg) != 5)
        return TOKEN_ERR_ALG;
    if (json_object_get(header, "crit"))
        return TOKEN_ERR_ALG;
    const json_t *typ = json_object_get(header, "typ");
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        return TOKEN_ERR_MALFORMED;
    return TOKEN_OK;
}

static enum token_error signature_check(const char *token, size_t len, const struct token_rules *rules)
{
    if (rules->secret_len == 0 || rules->secret_len > INT_MAX)
        return TOKEN_ERR_SIGNATURE;
    char *copy = strndup(token, len);
    if (!copy)
        return TOKEN_ERR_NOMEM;
    jwt_t *jwt = NULL;
    int rc = jwt_decode(&jwt, copy, (const unsigned char *)rules->secret, (int)rules->secret_len);
    enum token_error err = TOKEN_OK;
    if (rc == ENOMEM)
        err = TOKEN_ERR_NOMEM;
    else if (rc != 0 || !jwt)
        err = TOKEN_ERR_SIGNATURE;
    else if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        err = TOKEN_ERR_ALG;
    jwt_free(jwt);
    free(copy);
    return err;
}

/* A NumericDate as whole seconds: absent (0, *present = 0), or a number
 * rounded towards refusal (`round_up` for nbf/iat, down for exp). */
static int numeric_date(const json_t *obj, const char *name, int round_up, int64_t *out, int *present)
{
    const json_t *v = json_object_get(obj, name);
    *present = v != NULL;
    *out = 0;
    if (!v)
        return 0;
    double d;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i > TOKEN_DATE_MAX || i < -TOKEN_DATE_MAX)
            return -1;
        *out = (int64_t)i;
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    d = json_real_value(v);
    if (!isfinite(d) || d > (double)TOKEN_DATE_MAX || d < -(double)TOKEN_DATE_MAX)
        return -1;
    *out = (int64_t)(round_up ? ceil(d) : floor(d));
    return 0;
}

static enum token_error time_check(const json_t *claims, const struct token_rules *rules, struct token_claims *out)
{
    int64_t v;
    int present;
    if (numeric_date(claims, "exp", 0, &v, &present) != 0)
        return TOKEN_ERR_CLAIMS;
    if (!present && (rules->strict || rules->require_exp))
        return TOKEN_ERR_CLAIMS;
    if (present && rules->now >= v + rules->leeway)
        return TOKEN_ERR_EXPIRED;
    out->exp = v;
    if (numeric_date(claims, "nbf", 1, &v, &present) != 0)
        return TOKEN_ERR_CLAIMS;
    if (present && rules->now + rules->leeway < v)
        return TOKEN_ERR_NOT_YET_VALID;
    if (numeric_date(claims, "iat", 1, &v, &present) != 0)
        return TOKEN_ERR_CLAIMS;
    if (present && v > rules->now + rules->leeway)
        return TOKEN_ERR_ISSUED_IN_FUTURE;
    out->iat = v;
    return TOKEN_OK;
}

/* aud is a string or an array of strings; 1 if it names `want`, 0 if not,
 * -1 when it is of the wrong shape. */
static int audience_has(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0 && json_string_length(aud) == strlen(want);
    if (!json_is_array(aud))
        return -1;
    int found = 0;
    size_t i;
    const json_t *item;
    json_array_foreach(aud, i, item) {
        if (!json_is_string(item))
            return -1;
        if (strcmp(json_string_value(item), want) == 0 && json_string_length(item) == strlen(want))
            found = 1;
    }
    return found;
}

static enum token_error audience_issuer_check(const json_t *claims, const struct token_rules *rules)
{
    const json_t *aud = json_object_get(claims, "aud");
    if (rules->audience && (!aud || audience_has(aud, rules->audience) != 1))
        return TOKEN_ERR_AUDIENCE;
    if (rules->refuse_audience && aud && audience_has(aud, rules->refuse_audience) != 0)
        return TOKEN_ERR_AUDIENCE;
    if (rules->issuer) {
        const json_t *iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), rules->issuer) != 0 ||
            json_string_length(iss) != strlen(rules->issuer))
            return TOKEN_ERR_ISSUER;
    }
    return TOKEN_OK;
}

static enum token_error identity_read(const json_t *claims, const struct token_rules *rules, struct token_claims *out)
{
    const json_t *sub = json_object_get(claims, "sub");
    out->sub = sub ? claims_id(sub, rules->strict) : NULL;
    if (!out->sub)
        return TOKEN_ERR_SUBJECT;
    const json_t *sid = json_object_get(claims, "sid");
    if (sid && !json_is_null(sid)) {
        out->sid = claims_id(sid, rules->strict);
        if (!out->sid)
            return TOKEN_ERR_CLAIMS;
    }
    const json_t *jti = json_object_get(claims, "jti");
    if (jti && rules->strict) {
        if (!json_is_string(jti) || !token_id_valid(json_string_value(jti), json_string_length(jti)))
            return TOKEN_ERR_CLAIMS;
        out->jti = strdup(json_string_value(jti));
        if (!out->jti)
            return TOKEN_ERR_NOMEM;
    }
    int present;
    if (claims_id_list(claims, "servers", rules->strict, &out->servers, &out->n_servers, &present) != 0)
        return TOKEN_ERR_CLAIMS;
    if (claims_id_list(claims, "moderates", rules->strict, &out->moderates, &out->n_moderates, &out->has_moderates) != 0)
        return TOKEN_ERR_CLAIMS;
    return TOKEN_OK;
}

enum token_error token_verify(const char *token, size_t len, const struct token_rules *rules,
                              struct token_claims *out)
{
    memset(out, 0, sizeof(*out));
    if (len > rules->max_bytes)
        return TOKEN_ERR_OVERSIZE;
    if (len == 0 || memchr(token, '\0', len))
        return TOKEN_ERR_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    if (!dot1)
        return TOKEN_ERR_MALFORMED;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    const char *end = token + len;
    /* Three non-empty segments: an unsigned token has nothing to check. */
    if (!dot2 || dot1 == token || dot2 == dot1 + 1 || dot2 + 1 == end || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)))
        return TOKEN_ERR_MALFORMED;

    json_t *header = segment_json(token, (size_t)(dot1 - token));
    if (!header)
        return TOKEN_ERR_MALFORMED;
    enum token_error err = header_check(header);
    json_decref(header);
    if (err != TOKEN_OK)
        return err;
    json_t *claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (!claims)
        return TOKEN_ERR_MALFORMED;
    err = signature_check(token, len, rules);
    if (err == TOKEN_OK)
        err = time_check(claims, rules, out);
    if (err == TOKEN_OK)
        err = audience_issuer_check(claims, rules);
    if (err == TOKEN_OK)
        err = identity_read(claims, rules, out);
    json_decref(claims);
    if (err != TOKEN_OK)
        token_claims_free(out);
    return err;
}
