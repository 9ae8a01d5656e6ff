/* Command line of the load tool, shared by every scenario. */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include "net.h"

#define OPTIONS_MAX_URLS 16

struct options {
    const char *scenario;
    const char *label;            /* names the server under test in the output */
    struct endpoint urls[OPTIONS_MAX_URLS];
    unsigned url_count;
    const char *secret;
    const char *api_key;
    long server_pid;              /* connect: whose RSS to read; 0: none */
    unsigned connections;         /* connect */
    unsigned concurrency;         /* connect: handshakes in flight; token: HTTP connections */
    unsigned subscribers;         /* fanout, cross */
    unsigned publishers;
    unsigned size;                /* message content bytes */
    double rate;                  /* messages/s over all publishers; 0: flat out */
    unsigned window;              /* flat out: messages in flight, not yet delivered to all */
    double duration_s;            /* measured part of fanout, cross, token */
    unsigned settle_ms;           /* pause after setup, and before reading RSS */
    unsigned sources;             /* source addresses 127.0.0.1..; 0: by connection count */
    unsigned timeout_s;           /* hard bound of the whole run */
    int server_cpu;               /* floor: the sender's CPU; -1: not pinned */
};

#endif
