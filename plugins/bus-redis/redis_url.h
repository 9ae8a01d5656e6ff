/* REALTIME_REDIS_URL, parsed:
 *   redis://[[user]:password@]host[:port][/db]    (host may be [IPv6])
 *   unix:///path/to/socket[?db=N][&password=P][&user=U]
 *   redis-sentinel://[[user]:password@]host[:port][,host[:port]...]/master-name[/db]
 *   redis-cluster://[[user]:password@]host[:port][,host[:port]...]
 * with %XX escapes allowed in the user, the password and the master name.
 * The credentials are the data nodes' (the sentinels have their own keys,
 * sentinel_user and sentinel_password).  Pure. */
#ifndef SBR_BUS_REDIS_URL_H
#define SBR_BUS_REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_MAX_HOSTS 32
#define REDIS_SENTINEL_DEFAULT_PORT 26379

enum redis_mode {
    REDIS_MODE_SINGLE,   /* one server: redis:// or unix:// */
    REDIS_MODE_SENTINEL, /* the master a set of sentinels names */
    REDIS_MODE_CLUSTER   /* a Redis Cluster: keys and sharded channels by slot */
};

struct redis_endpoint {
    char *host;
    int port;
};

struct redis_url {
    enum redis_mode mode;
    char *host;        /* single: the server (NULL for a unix socket); else hosts[0]'s */
    int port;
    char *socket_path; /* NULL for TCP */
    char *user;        /* NULL: no ACL user (AUTH password alone) */
    char *password;    /* NULL: no AUTH */
    long db;
    /* The sentinels (sentinel), the nodes to ask for the slot map first
     * (cluster), or the one server (single, TCP). */
    struct redis_endpoint hosts[REDIS_URL_MAX_HOSTS];
    size_t n_hosts;
    char *master_name; /* sentinel only */
};

/* Parse text into url (zeroed first).  Returns 0, or -1 with a reason in
 * err (never mentioning the password). */
int redis_url_parse(const char *text, struct redis_url *url, char *err, size_t errlen);
void redis_url_clear(struct redis_url *url);
/* "host:port db N", "unix:/path db N", "sentinel master 'name' via h:p,h:p db N"
 * or "cluster via h:p,h:p", without credentials, for logs. */
void redis_url_describe(const struct redis_url *url, char *out, size_t outlen);
/* "single", "sentinel" or "cluster". */
const char *redis_mode_name(enum redis_mode mode);

#endif
