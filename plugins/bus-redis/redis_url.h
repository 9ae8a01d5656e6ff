/* REALTIME_REDIS_URL, parsed:
 *   redis://[[user]:password@]host[:port][/db]    (host may be [IPv6])
 *   unix:///path/to/socket[?db=N][&password=P][&user=U]
 * with %XX escapes allowed in the user and password. */
#ifndef SBR_BUS_REDIS_URL_H
#define SBR_BUS_REDIS_URL_H

#include <stddef.h>

struct redis_url {
    char *host;       /* NULL for a unix socket */
    int port;
    char *socket_path;/* NULL for TCP */
    char *user;       /* NULL: no ACL user (AUTH password alone) */
    char *password;   /* NULL: no AUTH */
    long db;
};

/* Parse text into url (zeroed first).  Returns 0, or -1 with a reason in
 * err (never mentioning the password). */
int redis_url_parse(const char *text, struct redis_url *url, char *err, size_t errlen);
void redis_url_clear(struct redis_url *url);
/* "host:port/db" or "unix:/path/db", without credentials, for logs. */
void redis_url_describe(const struct redis_url *url, char *out, size_t outlen);

#endif
