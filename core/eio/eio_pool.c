/* Keep-alive connections to one peer, for relayed polls: opening one per
 * request would double the relay's round trip. */
#include <event2/http.h>
#include <event2/util.h>
#include <netinet/in.h>

#include "clock.h"
#include "metrics.h"
#include "eio/eio_relay.h"

struct evhttp_connection *eio_pool_take(struct eio_pool *pool)
{
    eio_pool_sweep(pool, clock_monotonic_ms());
    return pool->n_idle ? pool->idle[--pool->n_idle].evcon : NULL;
}

void eio_pool_put(struct eio_pool *pool, struct evhttp_connection *evcon)
{
    if (pool->n_idle == EIO_POOL_MAX) {
        evhttp_connection_free(evcon);
        return;
    }
    pool->idle[pool->n_idle].evcon = evcon;
    pool->idle[pool->n_idle].since = clock_monotonic_ms();
    pool->n_idle++;
}

void eio_pool_sweep(struct eio_pool *pool, uint64_t now)
{
    size_t keep = 0;
    for (size_t i = 0; i < pool->n_idle; i++) {
        if (now - pool->idle[i].since > EIO_POOL_IDLE_MS)
            evhttp_connection_free(pool->idle[i].evcon);
        else
            pool->idle[keep++] = pool->idle[i];
    }
    pool->n_idle = keep;
}

void eio_pool_clear(struct eio_pool *pool)
{
    for (size_t i = 0; i < pool->n_idle; i++)
        evhttp_connection_free(pool->idle[i].evcon);
    pool->n_idle = 0;
}

struct evhttp_connection *eio_pool_connect(struct event_base *base, const struct sockaddr_storage *addr)
{
    char host[64];
    int port;
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        evutil_inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        evutil_inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    }
    struct evhttp_connection *evcon = evhttp_connection_base_new(base, NULL, host, (ev_uint16_t)port);
    if (evcon)
        core_metrics.eio_forward_connections++;
    return evcon;
}
