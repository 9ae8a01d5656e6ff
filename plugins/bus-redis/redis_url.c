#include "redis_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_URL_DEFAULT_PORT 6379

void redis_url_clear(struct redis_url *url)
{
    for (size_t i = 0; i < url->n_hosts; i++)
        free(url->hosts[i].host);
    if (!url->n_hosts)
        free(url->host);
    free(url->master_name);
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

/* host, host:port, [v6] or [v6]:port, in [s, s+len). */
static int redis_url_hostport(const char *s, size_t len, int default_port, struct redis_endpoint *ep, char *err,
                              size_t errlen)
{
    const char *port = NULL;
    size_t hlen;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return redis_url_fail(err, errlen, "unterminated [IPv6] host");
        hlen = (size_t)(close - s - 1);
        ep->host = redis_url_decode(s + 1, hlen);
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return redis_url_fail(err, errlen, "junk after the [IPv6] host");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        hlen = colon ? (size_t)(colon - s) : len;
        ep->host = redis_url_decode(s, hlen);
        if (colon)
            port = colon + 1;
    }
    if (!ep->host || hlen == 0)
        return redis_url_fail(err, errlen, "missing host");
    ep->port = default_port;
    if (port) {
        long p;
        if (redis_url_number(port, (size_t)(s + len - port), 1, 65535, &p) != 0)
            return redis_url_fail(err, errlen, "bad port (expected 1-65535)");
        ep->port = (int)p;
    }
    return 0;
}

/* host[:port][,host[:port]...] into url->hosts; one only for redis://. */
static int redis_url_hosts(const char *s, size_t len, int default_port, struct redis_url *url, char *err,
                           size_t errlen)
{
    const char *end = s + len;
    for (const char *at = s;;) {
        const char *comma = memchr(at, ',', (size_t)(end - at));
        const char *stop = comma ? comma : end;
        if (url->n_hosts == REDIS_URL_MAX_HOSTS)
            return redis_url_fail(err, errlen, "too many hosts (at most 32)");
        if (url->mode == REDIS_MODE_SINGLE && url->n_hosts == 1)
            return redis_url_fail(err, errlen,
                                  "one host in redis:// (several: redis-sentinel:// or redis-cluster://)");
        /* Counted first, so that redis_url_clear frees what a failure leaves. */
        struct redis_endpoint *ep = &url->hosts[url->n_hosts++];
        if (redis_url_hostport(at, (size_t)(stop - at), default_port, ep, err, errlen) != 0)
            return -1;
        if (!comma)
            break;
        at = comma + 1;
    }
    url->host = url->hosts[0].host;
    url->port = url->hosts[0].port;
    return 0;
}

/* The authority: [credentials@]hosts; returns where the path starts. */
static const char *redis_url_authority(const char *rest, int default_port, struct redis_url *url, char *err,
                                       size_t errlen)
{
    size_t authority_len = strcspn(rest, "/?#");
    const char *at = NULL;
    for (const char *p = rest; p < rest + authority_len; p++)
        if (*p == '@')
            at = p; /* the last '@': a password may contain '@' unescaped */
    const char *hosts = rest;
    if (at) {
        if (redis_url_credentials(rest, (size_t)(at - rest), url) != 0) {
            redis_url_fail(err, errlen, "bad %-escape in the user or password");
            return NULL;
        }
        hosts = at + 1;
    }
    if (redis_url_hosts(hosts, (size_t)(rest + authority_len - hosts), default_port, url, err, errlen) != 0)
        return NULL;
    return rest + authority_len;
}

/* [/db][?query] after the host of redis:// (or after the master name). */
static int redis_url_db(const char *path, struct redis_url *url, char *err, size_t errlen)
{
    if (*path == '/') {
        path++;
        size_t dlen = strcspn(path, "?#");
        if (dlen && redis_url_number(path, dlen, 0, 1L << 30, &url->db) != 0)
            return redis_url_fail(err, errlen, "bad database number (expected /N)");
        path += dlen;
    }
    if (*path == '?' && url->mode == REDIS_MODE_SINGLE)
        return redis_url_query(path + 1, url, err, errlen);
    if (*path)
        return redis_url_fail(err, errlen, "unexpected text after the database number");
    return 0;
}

static int redis_url_tcp(const char *rest, struct redis_url *url, char *err, size_t errlen)
{
    const char *path = redis_url_authority(rest, REDIS_URL_DEFAULT_PORT, url, err, errlen);
    return path ? redis_url_db(path, url, err, errlen) : -1;
}

/* hosts/master-name[/db]: the sentinels' default port is 26379. */
static int redis_url_sentinel(const char *rest, struct redis_url *url, char *err, size_t errlen)
{
    const char *path = redis_url_authority(rest, REDIS_SENTINEL_DEFAULT_PORT, url, err, errlen);
    if (!path)
        return -1;
    if (*path != '/' || !path[1] || path[1] == '/' || path[1] == '?' || path[1] == '#')
        return redis_url_fail(err, errlen, "missing master name (redis-sentinel://host:port/master-name)");
    path++;
    size_t nlen = strcspn(path, "/?#");
    url->master_name = redis_url_decode(path, nlen);
    if (!url->master_name)
        return redis_url_fail(err, errlen, "bad %-escape in the master name");
    return redis_url_db(path + nlen, url, err, errlen);
}

/* hosts only: a cluster has database 0 alone. */
static int redis_url_cluster(const char *rest, struct redis_url *url, char *err, size_t errlen)
{
    const char *path = redis_url_authority(rest, REDIS_URL_DEFAULT_PORT, url, err, errlen);
    if (!path)
        return -1;
    if (*path == '/')
        path++;
    if (*path)
        return redis_url_fail(err, errlen,
                              "nothing may follow the hosts of redis-cluster:// (a cluster has database 0 only)");
    return 0;
}

int redis_url_parse(const char *text, struct redis_url *url, char *err, size_t errlen)
{
    memset(url, 0, sizeof(*url));
    int rc;
    if (strncmp(text, "redis://", 8) == 0) {
        rc = redis_url_tcp(text + 8, url, err, errlen);
    } else if (strncmp(text, "unix://", 7) == 0) {
        rc = redis_url_unix(text + 7, url, err, errlen);
    } else if (strncmp(text, "redis-sentinel://", 17) == 0) {
        url->mode = REDIS_MODE_SENTINEL;
        rc = redis_url_sentinel(text + 17, url, err, errlen);
    } else if (strncmp(text, "redis-cluster://", 16) == 0) {
        url->mode = REDIS_MODE_CLUSTER;
        rc = redis_url_cluster(text + 16, url, err, errlen);
    } else if (strncmp(text, "rediss://", 9) == 0) {
        rc = redis_url_fail(err, errlen, "TLS (rediss://) is not supported");
    } else {
        rc = redis_url_fail(err, errlen,
                            "expected redis://[[user]:password@]host[:port][/db], unix:///path, "
                            "redis-sentinel://host:port[,host:port...]/master-name[/db] or "
                            "redis-cluster://host:port[,host:port...]");
    }
    if (rc != 0)
        redis_url_clear(url);
    return rc;
}

const char *redis_mode_name(enum redis_mode mode)
{
    return mode == REDIS_MODE_SENTINEL ? "sentinel" : mode == REDIS_MODE_CLUSTER ? "cluster" : "single";
}

/* h:p,h:p (IPv6 in brackets) into out. */
static void redis_url_describe_hosts(const struct redis_url *url, char *out, size_t outlen)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < url->n_hosts && at < outlen; i++) {
        const struct redis_endpoint *ep = &url->hosts[i];
        int n = snprintf(out + at, outlen - at, strchr(ep->host, ':') ? "%s[%s]:%d" : "%s%s:%d", i ? "," : "",
                         ep->host, ep->port);
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

void redis_url_describe(const struct redis_url *url, char *out, size_t outlen)
{
    char hosts[240];
    if (url->socket_path) {
        snprintf(out, outlen, "unix:%s db %ld", url->socket_path, url->db);
        return;
    }
    redis_url_describe_hosts(url, hosts, sizeof(hosts));
    if (url->mode == REDIS_MODE_SENTINEL)
        snprintf(out, outlen, "sentinel master '%s' via %s db %ld", url->master_name, hosts, url->db);
    else if (url->mode == REDIS_MODE_CLUSTER)
        snprintf(out, outlen, "cluster via %s", hosts);
    else
        snprintf(out, outlen, "%s db %ld", hosts, url->db);
}
