/* Command line of the load tool, shared by every scenario. */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include "net.h"

#define OPTIONS_MAX_URLS 16
#define OPTIONS_MAX_PIDS 8

/* floor: what the sending process models. */
enum floor_shape {
    FLOOR_SEND_LOOP,  /* one payload to every socket at --rate rounds/s */
    FLOOR_FANOUT,     /* a relay: publishers to one room of subscribers */
    FLOOR_ROOMS,      /* a relay: every connection publishes to its room */
};

struct options {
    const char *scenario;
    const char *label;            /* names the server under test in the output */
    struct endpoint urls[OPTIONS_MAX_URLS];
    unsigned url_count;
    const char *secret;
    const char *api_key;
    long server_pid;              /* connect: whose RSS to read; 0: none */
    long server_pids[OPTIONS_MAX_PIDS]; /* fanout, cross, rooms: whose CPU time to read */
    unsigned server_pid_count;
    unsigned connections;         /* connect */
    unsigned concurrency;         /* connect: handshakes in flight; token: HTTP connections */
    unsigned subscribers;         /* fanout, cross */
    unsigned publishers;
    unsigned size;                /* message content bytes */
    double rate;                  /* messages/s over all publishers; 0: flat out */
    unsigned window;              /* flat out: messages in flight per publisher, not yet delivered to all */
    unsigned room_size;           /* rooms: connections per channel */
    unsigned channels_per_server; /* rooms: channels of one server (its presence audience) */
    double period_s;              /* rooms: each connection sends one message per period */
    double presence_period_s;     /* rooms: each connection changes its status once per period; 0: never */
    int typing;                   /* rooms: a typing_start one second before each message */
    enum floor_shape shape;
    double duration_s;            /* measured part of fanout, cross, token */
    unsigned settle_ms;           /* pause after setup, and before reading RSS */
    unsigned drain_ms;            /* after the last send, how long stragglers may take */
    unsigned sources;             /* source addresses 127.0.0.1..; 0: by connection count */
    unsigned timeout_s;           /* hard bound of the whole run */
    int server_cpu;               /* floor: the sender's CPU; -1: not pinned */
};

#endif
