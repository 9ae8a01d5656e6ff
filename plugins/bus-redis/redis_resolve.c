/* Host names resolved without blocking the loop: hiredis resolves them with
 * a blocking getaddrinfo, so every host (the server's, a sentinel's, a
 * cluster node's) goes through libevent's asynchronous resolver first. */
#include "bus_redis.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct redis_resolving {
    struct evdns_getaddrinfo_request **pending;
    redis_resolved_fn fn;
    void *arg;
    char host[REDIS_HOST_MAX];
};

/* IPv4 first: "localhost" also names ::1, where Redis often does not
 * listen, and hiredis tries only the one address it is given. */
static int redis_resolve_pick(struct evutil_addrinfo *res, char *out, size_t outlen)
{
    struct evutil_addrinfo *pick = NULL;
    for (struct evutil_addrinfo *a = res; a; a = a->ai_next)
        if (!pick || (a->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = a;
    if (!pick)
        return -1;
    const void *addr = pick->ai_family == AF_INET6
                           ? (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr
                           : (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr;
    return inet_ntop(pick->ai_family, addr, out, (socklen_t)outlen) ? 0 : -1;
}

static void redis_resolve_done(int result, struct evutil_addrinfo *res, void *arg)
{
    struct redis_resolving *r = arg;
    if (result == EVUTIL_EAI_CANCEL) {
        free(r); /* redis_resolve_cancel gave up on it */
        return;
    }
    if (r->pending)
        *r->pending = NULL;
    char address[64];
    int ok = result == 0 && redis_resolve_pick(res, address, sizeof(address)) == 0;
    if (res)
        evutil_freeaddrinfo(res);
    char reason[REDIS_HOST_MAX + 100];
    snprintf(reason, sizeof(reason), "cannot resolve '%s': %s", r->host,
             result ? evutil_gai_strerror(result) : "no address");
    redis_resolved_fn fn = r->fn;
    void *fn_arg = r->arg;
    free(r);
    fn(fn_arg, ok ? address : NULL, ok ? NULL : reason);
}

static int redis_resolve_literal(const char *host)
{
    unsigned char probe[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, probe) == 1 || inet_pton(AF_INET6, host, probe) == 1;
}

void redis_resolve(struct bus_redis *br, const char *host, struct evdns_getaddrinfo_request **pending,
                   redis_resolved_fn fn, void *arg)
{
    *pending = NULL;
    if (!br->dns && !redis_resolve_literal(host)) {
        br->dns = evdns_base_new(br->api->event_base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
        if (!br->dns)
            br->api->log(br->self, SBR_LOG_WARN,
                         "no DNS resolver configured (/etc/resolv.conf): '%s' is resolved by blocking lookups", host);
    }
    struct redis_resolving *r = calloc(1, sizeof(*r));
    if (redis_resolve_literal(host) || !br->dns || !r || strlen(host) >= sizeof(r->host)) {
        free(r);
        fn(arg, host, NULL);
        return;
    }
    r->pending = pending;
    r->fn = fn;
    r->arg = arg;
    memcpy(r->host, host, strlen(host) + 1);
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    struct evdns_getaddrinfo_request *req = evdns_getaddrinfo(br->dns, host, NULL, &hints, redis_resolve_done, r);
    /* NULL: answered at once (from /etc/hosts, or a failure), r freed. */
    if (req)
        *pending = req;
}

void redis_resolve_cancel(struct evdns_getaddrinfo_request **pending)
{
    struct evdns_getaddrinfo_request *req = *pending;
    if (!req)
        return;
    *pending = NULL;
    /* Calls redis_resolve_done with EVUTIL_EAI_CANCEL, which only frees. */
    evdns_getaddrinfo_cancel(req);
}
