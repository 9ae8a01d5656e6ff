#include "redis_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_URL_DEFAULT_PORT 6379

void redis_url_clear(struct redis_url *url)
{
    free(url->host);
    free(url->socket_path);
    free(url->user);
    free(url->password);
    memset(url, 0, sizeof(*url));
}

static int redis_url_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copy [s, s+len) decoding %XX; NULL on a bad escape, an embedded NUL or
 * no memory. */
static char *redis_url_decode(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            int hi = i + 1 < len ? redis_url_hex((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < len ? redis_url_hex((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static int redis_url_number(const char *s, size_t len, long min, long max, long *out)
{
    if (len == 0 || len > 18)
        return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int redis_url_fail(char *err, size_t errlen, const char *reason)
{
    snprintf(err, errlen, "%s", reason);
    return -1;
}

/* user:password or :password or password alone, before '@'. */
static int redis_url_credentials(const char *s, size_t len, struct redis_url *url)
{
    const char *colon = memchr(s, ':', len);
    if (!colon) {
        url->password = redis_url_decode(s, len);
        return url->password ? 0 : -1;
    }
    size_t ulen = (size_t)(colon - s);
    if (ulen) {
        url->user = redis_url_decode(s, ulen);
        if (!url->user)
            return -1;
    }
    url->password = redis_url_decode(colon + 1, len - ulen - 1);
    return url->password ? 0 : -1;
}

/* ?db=N&password=P&user=U of a unix URL. */
static int redis_url_query(const char *q, struct redis_url *url, char *err, size_t errlen)
{
    while (*q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (!eq)
            return redis_url_fail(err, errlen, "bad query parameter (expected name=value)");
        size_t nlen = (size_t)(eq - q), vlen = len - nlen - 1;
        char **slot = NULL;
        if (nlen == 2 && memcmp(q, "db", 2) == 0) {
            if (redis_url_number(eq + 1, vlen, 0, 1L << 30, &url->db) != 0)
                return redis_url_fail(err, errlen, "bad database number");
        } else if (nlen == 8 && memcmp(q, "password", 8) == 0) {
            slot = &url->password;
        } else if (nlen == 4 && memcmp(q, "user", 4) == 0) {
            slot = &url->user;
        } else {
            return redis_url_fail(err, errlen, "unknown query parameter (known: db, password, user)");
        }
        if (slot) {
            free(*slot);
            *slot = redis_url_decode(eq + 1, vlen);
            if (!*slot)
                return redis_url_fail(err, errlen, "bad %-escape in a query parameter");
        }
        q += len;
        if (*q == '&')
            q++;
    }
    return 0;
}

static int redis_url_unix(const char *rest, struct redis_url *url, char *err, size_t errlen)
{
    if (rest[0] != '/')
        return redis_url_fail(err, errlen, "unix socket path must be absolute (unix:///path)");
    const char *q = strchr(rest, '?');
    size_t plen = q ? (size_t)(q - rest) : strlen(rest);
    if (plen < 2)
        return redis_url_fail(err, errlen, "empty unix socket path");
    url->socket_path = redis_url_decode(rest, plen);
    if (!url->socket_path)
        return redis_url_fail(err, errlen, "bad %-escape in the socket path");
    return q ? redis_url_query(q + 1, url, err, errlen) : 0;
}

static int redis_url_tcp(const char *rest, struct redis_url *url, char *err, size_t errlen)
{
    size_t authority_len = strcspn(rest, "/?#");
    const char *authority = rest, *path = rest + authority_len;
    const char *at = NULL;
    for (const char *p = authority; p < authority + authority_len; p++)
        if (*p == '@')
            at = p; /* the last '@': a password may contain '@' unescaped */
    const char *hostport = authority;
    if (at) {
        if (redis_url_credentials(authority, (size_t)(at - authority), url) != 0)
            return redis_url_fail(err, errlen, "bad %-escape in the user or password");
        hostport = at + 1;
    }
    size_t hplen = (size_t)(authority + authority_len - hostport);
    const char *port = NULL;
    size_t hlen;
    if (hplen && hostport[0] == '[') {
        const char *close = memchr(hostport, ']', hplen);
        if (!close)
            return redis_url_fail(err, errlen, "unterminated [IPv6] host");
        url->host = redis_url_decode(hostport + 1, (size_t)(close - hostport - 1));
        hlen = (size_t)(close - hostport - 1);
        if (close + 1 < hostport + hplen) {
            if (close[1] != ':')
                return redis_url_fail(err, errlen, "junk after the [IPv6] host");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(hostport, ':', hplen);
        hlen = colon ? (size_t)(colon - hostport) : hplen;
        url->host = redis_url_decode(hostport, hlen);
        if (colon)
            port = colon + 1;
    }
    if (!url->host || hlen == 0)
        return redis_url_fail(err, errlen, "missing host");
    url->port = REDIS_URL_DEFAULT_PORT;
    if (port) {
        long p;
        if (redis_url_number(port, (size_t)(hostport + hplen - port), 1, 65535, &p) != 0)
            return redis_url_fail(err, errlen, "bad port (expected 1-65535)");
        url->port = (int)p;
    }
    if (*path == '/') {
        path++;
        size_t dlen = strcspn(path, "?#");
        if (dlen && redis_url_number(path, dlen, 0, 1L << 30, &url->db) != 0)
            return redis_url_fail(err, errlen, "bad database number (expected /N)");
        path += dlen;
    }
    if (*path == '?')
        return redis_url_query(path + 1, url, err, errlen);
    if (*path)
        return redis_url_fail(err, errlen, "unexpected text after the database number");
    return 0;
}

int redis_url_parse(const char *text, struct redis_url *url, char *err, size_t errlen)
{
    memset(url, 0, sizeof(*url));
    int rc;
    if (strncmp(text, "redis://", 8) == 0)
        rc = redis_url_tcp(text + 8, url, err, errlen);
    else if (strncmp(text, "unix://", 7) == 0)
        rc = redis_url_unix(text + 7, url, err, errlen);
    else if (strncmp(text, "rediss://", 9) == 0)
        rc = redis_url_fail(err, errlen, "TLS (rediss://) is not supported");
    else
        rc = redis_url_fail(err, errlen, "expected redis://[[user]:password@]host[:port][/db] or unix:///path");
    if (rc != 0)
        redis_url_clear(url);
    return rc;
}

void redis_url_describe(const struct redis_url *url, char *out, size_t outlen)
{
    if (url->socket_path)
        snprintf(out, outlen, "unix:%s db %ld", url->socket_path, url->db);
    else if (strchr(url->host, ':'))
        snprintf(out, outlen, "[%s]:%d db %ld", url->host, url->port, url->db);
    else
        snprintf(out, outlen, "%s:%d db %ld", url->host, url->port, url->db);
}
