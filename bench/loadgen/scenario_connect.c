/* connect: C WebSocket clients, K handshakes in flight, each carrying its own
 * freshly minted token; every one stays open and idle so the server's RSS
 * growth divided by C is its cost per idle connection. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "histogram.h"
#include "options.h"
#include "report.h"
#include "scenario.h"
#include "sio_client.h"
#include "token_mint.h"

static struct {
    struct event_base *base;
    const struct options *o;
    struct sio_client **clients;
    unsigned spread;
    unsigned started, ready, failed, dropped, in_flight;
    uint64_t t_start, t_end;
    struct histogram *handshake;
    struct event *settle;
    int timed_out;
    char first_error[160];
} run;

static void note_error(const char *what)
{
    if (!run.first_error[0])
        snprintf(run.first_error, sizeof run.first_error, "%s", what);
}

static void launch_more(void);

static void on_ready(struct sio_client *c)
{
    histogram_record(run.handshake, clock_now_us() - sio_client_started_us(c));
    run.ready++;
    run.in_flight--;
    launch_more();
}

static void on_packet(struct sio_client *c, const char *packet, size_t len)
{
    (void)c;
    (void)packet;
    (void)len;
}

static void on_close(struct sio_client *c, const char *reason)
{
    run.clients[(uintptr_t)sio_client_userdata(c)] = NULL;
    note_error(reason);
    if (sio_client_was_connected(c)) {
        run.dropped++;
        return;
    }
    run.failed++;
    run.in_flight--;
    launch_more();
}

static const struct sio_client_handler handler = { on_ready, on_packet, on_close };

static void settled_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(run.base);
}

static void launch_more(void)
{
    const struct options *o = run.o;
    while (run.in_flight < o->concurrency && run.started < o->connections) {
        unsigned i = run.started++;
        char sub[48], server[48], token[1024];
        snprintf(sub, sizeof sub, "conn-%ld-%u", (long)getpid(), i);
        snprintf(server, sizeof server, "conn-server-%u", i);
        if (!token_mint(o->secret, sub, server, 3600, token, sizeof token)) {
            run.failed++;
            note_error("token does not fit");
            continue;
        }
        struct sio_client *c = sio_client_open(run.base, &o->urls[0], token, i, run.spread, &handler,
                                               (void *)(uintptr_t)i);
        if (!c) {
            run.failed++;
            note_error(strerror(errno));
            continue;
        }
        run.clients[i] = c;
        run.in_flight++;
    }
    if (run.started == o->connections && run.in_flight == 0 && !run.t_end) {
        run.t_end = clock_now_us();
        struct timeval tv = { o->settle_ms / 1000, (o->settle_ms % 1000) * 1000 };
        evtimer_add(run.settle, &tv);
    }
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    run.timed_out = 1;
    note_error("timed out");
    event_base_loopbreak(run.base);
}

int scenario_connect(struct event_base *base, const struct options *o)
{
    run.base = base;
    run.o = o;
    run.spread = o->sources ? o->sources : 1 + o->connections / 16000;
    run.clients = calloc(o->connections ? o->connections : 1, sizeof *run.clients);
    run.handshake = histogram_new();
    run.settle = evtimer_new(base, settled_cb, NULL);
    struct event *timeout = evtimer_new(base, timeout_cb, NULL);
    struct timeval tv = { o->timeout_s, 0 };
    evtimer_add(timeout, &tv);

    long rss_before = o->server_pid ? report_rss_kb(o->server_pid) : -1;
    run.t_start = clock_now_us();
    launch_more();
    event_base_dispatch(base);
    if (!run.t_end)
        run.t_end = clock_now_us();
    long rss_after = o->server_pid ? report_rss_kb(o->server_pid) : -1;

    double elapsed = (double)(run.t_end - run.t_start) / 1e6;
    double rate = elapsed > 0 ? run.ready / elapsed : 0;
    long per_conn = rss_before > 0 && rss_after > 0 && run.ready
                        ? (long)((rss_after - rss_before) * 1024.0 / run.ready)
                        : -1;
    int failed = run.failed || run.dropped || run.timed_out || run.ready != o->connections;

    printf("{\"scenario\":\"connect\",\"label\":");
    report_json_string(stdout, o->label);
    printf(",\"connections\":%u,\"concurrency\":%u,\"established\":%u,\"failed\":%u,\"dropped\":%u,"
           "\"elapsed_s\":%.3f,\"connects_per_s\":%.1f,",
           o->connections, o->concurrency, run.ready, run.failed, run.dropped, elapsed, rate);
    report_latency_json(stdout, "handshake_us", run.handshake);
    printf(",\"rss_before_kb\":%ld,\"rss_after_kb\":%ld,\"bytes_per_connection\":%ld,\"ok\":%s,\"error\":",
           rss_before, rss_after, per_conn, failed ? "false" : "true");
    report_json_string(stdout, run.first_error);
    printf("}\n");
    fflush(stdout);

    fprintf(stderr, "connect [%s]: %u/%u established at concurrency %u in %.2f s, %u failed, %u dropped\n",
            o->label, run.ready, o->connections, o->concurrency, elapsed, run.failed, run.dropped);
    fprintf(stderr, "  %-22s %10.0f /s\n", "connects (with auth)", rate);
    report_latency_row(stderr, "handshake", run.handshake);
    if (per_conn >= 0)
        fprintf(stderr, "  %-22s %ld kB -> %ld kB: %ld bytes per idle connection\n", "server RSS", rss_before,
                rss_after, per_conn);
    if (run.first_error[0])
        fprintf(stderr, "  first error: %s\n", run.first_error);

    for (unsigned i = 0; i < o->connections; i++)
        if (run.clients[i])
            sio_client_close(run.clients[i]);
    free(run.clients);
    histogram_free(run.handshake);
    event_free(run.settle);
    event_free(timeout);
    return failed ? 1 : 0;
}
