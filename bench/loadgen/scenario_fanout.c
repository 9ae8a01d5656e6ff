/* fanout and cross: S subscribers join one channel, P publishers send_message
 * into it, either flat out with a bounded number of messages in flight per
 * publisher (a message leaves its publisher's window once every subscriber
 * has it) or at a fixed rate.  Each content carries its sequence number and
 * send time, so every delivery gives one end-to-end latency and is checked
 * off.  With --server-pid, the servers' CPU time over the measured part is
 * divided by the deliveries. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "content.h"
#include "histogram.h"
#include "http_call.h"
#include "options.h"
#include "report.h"
#include "scenario.h"
#include "sio_client.h"
#include "token_mint.h"

#define SERVER_ID "bench-server"
#define RING (1u << 20)            /* deliveries counted per sequence number, modulo */
#define CONNECTING_MAX 256         /* setup handshakes in flight */
#define STALL_MS 5000              /* flat out: no delivery for this long ends the run */

enum phase { PHASE_SETUP, PHASE_SETTLE, PHASE_RUN, PHASE_DRAIN, PHASE_DONE };

enum role { ROLE_SUBSCRIBER, ROLE_PUBLISHER };

static struct {
    struct event_base *base;
    const struct options *o;
    int cross;
    enum phase phase;
    char channel[64];
    unsigned spread;
    struct sio_client **clients;   /* subscribers first, then publishers */
    unsigned total, launched, connecting, joined, publishers_ready;
    unsigned next_publisher;
    uint32_t *delivered;           /* per sequence number modulo RING */
    uint16_t *owner;               /* publisher of each sequence number modulo RING */
    unsigned *publisher_in_flight; /* flat out: per publisher */
    long long cpu_at_start;        /* servers' CPU time when the run started, -1 if unread */
    uint64_t sent, completed, rejected, received, duplicates, unexpected;
    uint64_t t_first_send, t_last_send, t_last_delivery, t_run_start;
    struct histogram *latency;
    struct event *tick, *phase_timer;
    int setup_failed, stalled;
    unsigned dropped;
    char *content_pad;
    char first_error[200];
} run;

static void note_error(const char *what)
{
    if (!run.first_error[0])
        snprintf(run.first_error, sizeof run.first_error, "%s", what);
}

static enum role role_of(unsigned index)
{
    return index < run.o->subscribers ? ROLE_SUBSCRIBER : ROLE_PUBLISHER;
}

static uint64_t in_flight(void)
{
    return run.sent - run.completed - run.rejected;
}

static void finish(void)
{
    run.phase = PHASE_DONE;
    event_base_loopbreak(run.base);
}

static void check_drained(void)
{
    if (run.phase == PHASE_DRAIN && in_flight() == 0)
        finish();
}

/* One send_message from publisher p (0..P-1).  -1 if it is gone or its
 * buffer cannot grow. */
static int publish_from(unsigned p)
{
    const struct options *o = run.o;
    struct sio_client *c = run.clients[o->subscribers + p];
    if (!c)
        return -1;
    uint64_t seq = run.sent;
    uint64_t now = clock_now_us();
    char head[48];
    int head_len = snprintf(head, sizeof head, "%" PRIu64 ".%" PRIu64 ".", seq, now);
    int pad = (int)o->size > head_len ? (int)o->size - head_len : 0;
    char packet[8192];
    int n = snprintf(packet, sizeof packet,
                     "2%" PRIu64 "[\"send_message\",{\"channel_id\":\"%s\",\"content\":\"%s%.*s\","
                     "\"nonce\":\"%" PRIu64 "\"}]",
                     seq, run.channel, head, pad, run.content_pad, seq);
    if (n < 0 || (size_t)n >= sizeof packet || sio_client_send(c, packet, (size_t)n) != 0)
        return -1;
    run.delivered[seq & (RING - 1)] = 0;
    run.owner[seq & (RING - 1)] = (uint16_t)p;
    run.publisher_in_flight[p]++;
    run.sent++;
    if (!run.t_first_send)
        run.t_first_send = now;
    run.t_last_send = now;
    return 0;
}

/* Rate mode: one send_message from the next publisher, round robin. */
static int publish_one(void)
{
    const struct options *o = run.o;
    for (unsigned tries = 0; tries < o->publishers; tries++) {
        unsigned p = run.next_publisher;
        run.next_publisher = (run.next_publisher + 1) % o->publishers;
        if (publish_from(p) == 0)
            return 0;
    }
    return -1;
}

/* Flat out: keep publisher p's window full. */
static void pump_publisher(unsigned p)
{
    if (run.phase != PHASE_RUN || run.o->rate > 0)
        return;
    while (run.publisher_in_flight[p] < run.o->window)
        if (publish_from(p) != 0)
            return;
}

/* Flat out: fill every publisher's window. */
static void pump(void)
{
    for (unsigned p = 0; p < run.o->publishers; p++)
        pump_publisher(p);
}

/* A message left its publisher's window (delivered to all, or refused). */
static void window_release(uint64_t seq)
{
    unsigned p = run.owner[seq & (RING - 1)];
    if (run.publisher_in_flight[p])
        run.publisher_in_flight[p]--;
    pump_publisher(p);
}

static void on_delivery(const char *packet, size_t len)
{
    uint64_t seq, sent_at;
    if (content_read(packet, len, &seq, &sent_at) != 0 || seq >= run.sent || run.sent - seq > RING / 2) {
        run.unexpected++;
        return;
    }
    uint64_t now = clock_now_us();
    histogram_record(run.latency, now - sent_at);
    run.received++;
    run.t_last_delivery = now;
    uint32_t count = ++run.delivered[seq & (RING - 1)];
    if (count == run.o->subscribers) {
        run.completed++;
        window_release(seq);
        check_drained();
    } else if (count > run.o->subscribers) {
        run.duplicates++;
    }
}

static void maybe_start(void);

static void on_ready(struct sio_client *c)
{
    unsigned index = (unsigned)(uintptr_t)sio_client_userdata(c);
    run.connecting--;
    if (role_of(index) == ROLE_SUBSCRIBER) {
        char packet[160];
        int n = snprintf(packet, sizeof packet, "21[\"join_channel\",{\"channel_id\":\"%s\"}]", run.channel);
        sio_client_send(c, packet, (size_t)n);
    } else {
        run.publishers_ready++;
    }
    maybe_start();
}

static void on_packet(struct sio_client *c, const char *packet, size_t len)
{
    unsigned index = (unsigned)(uintptr_t)sio_client_userdata(c);
    static const char message[] = "2[\"message\",";
    if (len > sizeof message && memcmp(packet, message, sizeof message - 1) == 0) {
        if (run.phase >= PHASE_RUN)
            on_delivery(packet, len);
        return;
    }
    if (packet[0] != '3')
        return;  /* ready, presence_update: not measured */
    int ok = sio_ack_ok(packet, len);
    if (role_of(index) == ROLE_SUBSCRIBER) {
        if (ok) {
            run.joined++;
        } else {
            char why[200];
            snprintf(why, sizeof why, "join_channel refused: %.*s", (int)(len > 150 ? 150 : len), packet);
            note_error(why);
            run.setup_failed = 1;
            finish();
            return;
        }
        maybe_start();
    } else if (!ok) {
        char why[200];
        snprintf(why, sizeof why, "send_message refused: %.*s", (int)(len > 150 ? 150 : len), packet);
        note_error(why);
        run.rejected++;
        /* The ack id is the message's sequence number. */
        window_release(strtoull(packet + 1, NULL, 10));
        check_drained();
    }
}

static void on_close(struct sio_client *c, const char *reason)
{
    unsigned index = (unsigned)(uintptr_t)sio_client_userdata(c);
    run.clients[index] = NULL;
    char why[200];
    snprintf(why, sizeof why, "%s %u: %s", role_of(index) == ROLE_SUBSCRIBER ? "subscriber" : "publisher", index,
             reason);
    note_error(why);
    run.dropped++;
    if (run.phase <= PHASE_SETTLE) {
        run.setup_failed = 1;
        finish();
    }
}

static const struct sio_client_handler handler = { on_ready, on_packet, on_close };

static void launch_more(void)
{
    const struct options *o = run.o;
    while (run.connecting < CONNECTING_MAX && run.launched < run.total && run.phase == PHASE_SETUP) {
        unsigned i = run.launched++;
        int subscriber = role_of(i) == ROLE_SUBSCRIBER;
        const struct endpoint *ep = subscriber && run.cross ? &o->urls[i % o->url_count] : &o->urls[0];
        char sub[48], token[1024];
        snprintf(sub, sizeof sub, "%s-%ld-%u", subscriber ? "sub" : "pub", (long)getpid(), i);
        if (!token_mint(o->secret, sub, SERVER_ID, 3600, token, sizeof token)) {
            note_error("token does not fit");
            run.setup_failed = 1;
            finish();
            return;
        }
        struct sio_client *c = sio_client_open(run.base, ep, token, i, run.spread, &handler, (void *)(uintptr_t)i);
        if (!c) {
            note_error(strerror(errno));
            run.setup_failed = 1;
            finish();
            return;
        }
        run.clients[i] = c;
        run.connecting++;
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg);
static void phase_cb(evutil_socket_t fd, short what, void *arg);

static void arm_phase_timer(unsigned ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(run.phase_timer, &tv);
}

static void maybe_start(void)
{
    launch_more();
    if (run.phase != PHASE_SETUP || run.joined < run.o->subscribers || run.publishers_ready < run.o->publishers)
        return;
    /* Let the setup traffic (presence, ready) drain before measuring. */
    run.phase = PHASE_SETTLE;
    /* A profiler may wait for this line to start counting. */
    fprintf(stderr, "loadgen: set up, settling for %u ms\n", run.o->settle_ms);
    arm_phase_timer(run.o->settle_ms);
}

static void phase_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t now = clock_now_us();
    switch (run.phase) {
    case PHASE_SETTLE: {
        run.phase = PHASE_RUN;
        run.t_run_start = now;
        run.cpu_at_start = report_cpu_total_us(run.o->server_pids, run.o->server_pid_count);
        struct timeval ms1 = { 0, 1000 };
        event_add(run.tick, &ms1);
        pump();
        arm_phase_timer((unsigned)(run.o->duration_s * 1000));
        break;
    }
    case PHASE_RUN:
        run.phase = PHASE_DRAIN;
        arm_phase_timer(run.o->drain_ms);
        check_drained();
        break;
    case PHASE_DRAIN:
        finish();
        break;
    default:
        break;
    }
}

/* Rate mode sends what is due every millisecond; flat out only watches for a
 * stall (a lost message keeps the window from ever emptying). */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (run.phase != PHASE_RUN)
        return;
    uint64_t now = clock_now_us();
    if (run.o->rate > 0) {
        uint64_t due = (uint64_t)(run.o->rate * (double)(now - run.t_run_start) / 1e6);
        while (run.sent < due && in_flight() < RING / 2)
            if (publish_one() != 0)
                break;
        return;
    }
    uint64_t last = run.t_last_delivery > run.t_run_start ? run.t_last_delivery : run.t_run_start;
    if (now - last > STALL_MS * 1000ull) {
        run.stalled = 1;
        note_error("stalled: no delivery for 5 s");
        finish();
    }
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    note_error("timed out");
    run.setup_failed = run.phase <= PHASE_SETTLE;
    finish();
}

/* The run's state, its events and the channel; the timeout armed. */
static struct event *setup(struct event_base *base, const struct options *o, int cross)
{
    run.base = base;
    run.o = o;
    run.cross = cross;
    run.total = o->subscribers + o->publishers;
    run.spread = o->sources ? o->sources : 1 + run.total / 16000;
    run.clients = calloc(run.total, sizeof *run.clients);
    run.delivered = calloc(RING, sizeof *run.delivered);
    run.owner = calloc(RING, sizeof *run.owner);
    run.publisher_in_flight = calloc(o->publishers, sizeof *run.publisher_in_flight);
    run.cpu_at_start = -1;
    run.latency = histogram_new();
    run.content_pad = malloc(o->size + 1);
    memset(run.content_pad, 'x', o->size);
    run.content_pad[o->size] = '\0';
    run.tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    run.phase_timer = evtimer_new(base, phase_cb, NULL);
    struct event *timeout = evtimer_new(base, timeout_cb, NULL);
    struct timeval tv = { o->timeout_s, 0 };
    evtimer_add(timeout, &tv);
    snprintf(run.channel, sizeof run.channel, "bench-%ld-%lx", (long)getpid(), (unsigned long)clock_now_us());
    return timeout;
}

/* PUT the channel, then connect and run everything. */
static void register_and_run(void)
{
    const struct options *o = run.o;
    char path[128];
    snprintf(path, sizeof path, "/api/realtime/channels/%s", run.channel);
    int status = http_call(run.base, &o->urls[0], "PUT", path, o->api_key,
                           "{\"server_id\":\"" SERVER_ID "\",\"settings\":{\"slow_mode\":0}}", 10000);
    if (status < 200 || status > 299) {
        char why[192];
        snprintf(why, sizeof why, "PUT %s answered %d", path, status);
        note_error(why);
        run.setup_failed = 1;
        return;
    }
    launch_more();
    if (run.phase == PHASE_SETUP && !run.setup_failed)
        event_base_dispatch(run.base);
}

/* Print the JSON line and the table; whether the run failed. */
static int report(const char *name, long long cpu_us)
{
    const struct options *o = run.o;
    uint64_t expected = (run.sent - run.rejected) * o->subscribers;
    uint64_t losses = expected > run.received - run.duplicates ? expected - (run.received - run.duplicates) : 0;
    uint64_t end = run.t_last_delivery > run.t_first_send ? run.t_last_delivery : run.t_first_send;
    double elapsed = (double)(end - run.t_first_send) / 1e6;
    double deliveries_per_s = elapsed > 0 ? (double)run.received / elapsed : 0;
    double messages_per_s = elapsed > 0 ? (double)(run.sent - run.rejected) / elapsed : 0;
    int failed = run.setup_failed || run.stalled || losses || run.rejected || run.duplicates || run.dropped ||
                 run.sent == 0;
    printf("{\"scenario\":\"%s\",\"label\":", name);
    report_json_string(stdout, o->label);
    printf(",\"workers\":%u,\"subscribers\":%u,\"publishers\":%u,\"size\":%u,\"rate\":%.1f,\"window\":%u,"
           "\"elapsed_s\":%.3f,\"sent\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"expected\":%" PRIu64
           ",\"received\":%" PRIu64 ",\"losses\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"unexpected\":%" PRIu64
           ",\"dropped\":%u,\"messages_per_s\":%.1f,\"deliveries_per_s\":%.1f,",
           run.cross ? o->url_count : 1, o->subscribers, o->publishers, o->size, o->rate,
           o->rate > 0 ? 0 : o->window, elapsed, run.sent, run.rejected, expected, run.received, losses,
           run.duplicates, run.unexpected, run.dropped, messages_per_s, deliveries_per_s);
    report_latency_json(stdout, "latency_us", run.latency);
    printf(",");
    report_cpu_json(stdout, cpu_us, run.received);
    printf(",\"ok\":%s,\"error\":", failed ? "false" : "true");
    report_json_string(stdout, run.first_error);
    printf("}\n");
    fflush(stdout);
    fprintf(stderr, "%s [%s]: %u subscribers%s, %u publishers, %u-byte content, %s\n", name, o->label,
            o->subscribers, run.cross ? " over several workers" : "", o->publishers, o->size,
            o->rate > 0 ? "fixed rate" : "flat out");
    fprintf(stderr, "  %-22s %10.0f /s (%" PRIu64 " in %.2f s)\n", "deliveries", deliveries_per_s, run.received,
            elapsed);
    fprintf(stderr, "  %-22s %10.0f /s (%" PRIu64 " sent, %" PRIu64 " refused)\n", "messages", messages_per_s,
            run.sent, run.rejected);
    report_latency_row(stderr, "end-to-end latency", run.latency);
    report_cpu_row(stderr, cpu_us, run.received, elapsed);
    fprintf(stderr, "  %-22s expected %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64 ", duplicated %" PRIu64
                    "\n",
            "deliveries check", expected, run.received, losses, run.duplicates);
    if (run.first_error[0])
        fprintf(stderr, "  first error: %s\n", run.first_error);
    return failed;
}

static void teardown(struct event *timeout)
{
    for (unsigned i = 0; i < run.total; i++)
        if (run.clients[i])
            sio_client_close(run.clients[i]);
    free(run.clients);
    free(run.delivered);
    free(run.owner);
    free(run.publisher_in_flight);
    free(run.content_pad);
    histogram_free(run.latency);
    event_free(run.tick);
    event_free(run.phase_timer);
    event_free(timeout);
}

int scenario_fanout(struct event_base *base, const struct options *o, int cross)
{
    struct event *timeout = setup(base, o, cross);
    register_and_run();
    long long cpu_us = -1;
    if (run.cpu_at_start >= 0) {
        long long cpu_now = report_cpu_total_us(o->server_pids, o->server_pid_count);
        cpu_us = cpu_now >= 0 ? cpu_now - run.cpu_at_start : -1;
    }
    int failed = report(cross ? "cross" : "fanout", cpu_us);
    teardown(timeout);
    if (run.setup_failed)
        return 2;
    return failed ? 1 : 0;
}
