/* Endpoints, the file limit and source addresses: what lets one process hold
 * tens of thousands of loopback connections. */
#ifndef LOADGEN_NET_H
#define LOADGEN_NET_H

#include <netinet/in.h>

struct endpoint {
    char host[64];          /* as written in the URL, for the Host header */
    int port;
    struct sockaddr_in addr;
};

/* Parse "http://127.0.0.1:8080" (or "127.0.0.1:8080"); IPv4 literals only,
 * since the benchmarks are loopback.  0 on success, -1 otherwise. */
int endpoint_parse(const char *url, struct endpoint *out);

/* Raise RLIMIT_NOFILE to its hard limit; returns the new soft limit. */
long net_raise_file_limit(void);

/* A non-blocking TCP socket bound to source address 127.0.0.(1 + index %
 * spread) with the port left to connect(), so each source address has its own
 * ephemeral port range.  -1 on error (errno set). */
int net_socket_from(unsigned index, unsigned spread);

#endif
