/* The worker address: besides its public listeners, each worker listens on
 * an address of its own (`worker_listen`, loopback and an ephemeral port by
 * default) that serves only Engine.IO's path and never relays, so a
 * request relayed here cannot loop.  It only ever sees requests another
 * worker relayed (plus what a local user could send to the public port
 * anyway). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <event2/util.h>

#include "conf/conf.h"
#include "log.h"
#include "net/http.h"
#include "settings.h"
#include "eio/eio_session.h"
#include "eio/eio_worker_server.h"

static struct http_private *worker_server;
static char worker_server_path[SETTINGS_PATH_MAX + 1];

static void worker_server_dispatch(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || strncmp(path, worker_server_path, strlen(worker_server_path)) != 0) {
        http_reply_error(req, 404, "not_found");
        return;
    }
    eio_http_handle(req, NULL); /* NULL: never relay from here */
}

/* "ip:port" or "[ip6]:port" of a bound socket. */
static void worker_server_address(const struct sockaddr_storage *ss, char *out, size_t len)
{
    char host[64];
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        evutil_inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        snprintf(out, len, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        evutil_inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        snprintf(out, len, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    }
}

int eio_worker_server_start(struct event_base *base, const char *path, char *advertised, size_t len)
{
    struct conf_values *v = settings_values();
    const char *bind_text = conf_values_string(v, "worker_listen");
    const char *adv = conf_values_string(v, "worker_advertise");
    struct sockaddr_storage bound;
    snprintf(worker_server_path, sizeof(worker_server_path), "%s", path);
    worker_server = http_private_start(base, bind_text, "worker address", EVHTTP_REQ_GET | EVHTTP_REQ_POST,
                                       worker_server_dispatch, NULL, &bound);
    if (!worker_server)
        return -1;
    if (adv && *adv)
        snprintf(advertised, len, "%s", adv);
    else
        worker_server_address(&bound, advertised, len);
    return 0;
}

void eio_worker_server_free(void)
{
    http_private_free(worker_server);
    worker_server = NULL;
}
