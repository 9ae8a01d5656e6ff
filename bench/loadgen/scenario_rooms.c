/* rooms: a chat in the shape of many small rooms.  N connections sit in
 * N / R channels of R members (every member joined), channels grouped G to a
 * server (the token's membership, so presence reaches G x R members).  Each
 * connection sends one message per period, preceded by a typing_start one
 * second before (which the message ends), and changes its status once per
 * presence period; the sends are spread evenly over time and over channels.
 * Every message delivery is checked off (R per message, the sender
 * included) and gives one end-to-end latency; typing and presence events
 * are counted.  With --server-pid, the servers' CPU time over the measured
 * part is divided by every event delivered. */
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

#define RING (1u << 20)            /* deliveries counted per sequence number, modulo */
#define CONNECTING_MAX 256         /* setup handshakes in flight */
#define TYPING_LEAD_US 1000000u    /* a typing_start this long before its message */

enum phase { PHASE_SETUP, PHASE_SETTLE, PHASE_RUN, PHASE_DRAIN, PHASE_DONE };

/* What an ack answers: its id modulo ACK_KINDS. */
enum ack_kind { ACK_JOIN, ACK_MESSAGE, ACK_TYPING, ACK_PRESENCE, ACK_KINDS };

static struct {
    struct event_base *base;
    const struct options *o;
    enum phase phase;
    char prefix[48];               /* names of this run's channels and servers */
    unsigned n, channels, spread;
    struct sio_client **clients;
    uint8_t *status_idle;          /* per connection: its last status was idle */
    unsigned launched, connecting, joined;
    uint32_t *delivered;           /* per sequence number modulo RING */
    uint64_t to_send;              /* messages the run sends in all */
    uint64_t sent, typing_sent, presence_sent, completed, rejected;
    uint64_t received, duplicates, unexpected, typing_starts, typing_stops, presence_updates, other_events;
    uint64_t refused_other;
    uint64_t t_run_start, t_first_send, t_last_delivery;
    long long cpu_at_start;
    struct histogram *latency;
    struct event *tick, *phase_timer;
    int setup_failed;
    unsigned dropped;
    char *content_pad;
    char first_error[256];
} run;

static void note_error(const char *what)
{
    if (!run.first_error[0])
        snprintf(run.first_error, sizeof run.first_error, "%s", what);
}

static void finish(void)
{
    run.phase = PHASE_DONE;
    event_base_loopbreak(run.base);
}

static uint64_t in_flight(void)
{
    return run.sent - run.completed - run.rejected;
}

static void check_drained(void)
{
    if (run.phase == PHASE_DRAIN && in_flight() == 0)
        finish();
}

static unsigned channel_of(unsigned conn)
{
    return conn / run.o->room_size;
}

/* The k-th send of a cycle goes to channel k % channels: consecutive sends
 * land in different rooms, and a room's members take turns. */
static unsigned conn_of(uint64_t k)
{
    unsigned i = (unsigned)(k % run.n);
    return (i % run.channels) * run.o->room_size + i / run.channels;
}

static int send_packet(unsigned conn, const char *packet, int n)
{
    struct sio_client *c = run.clients[conn];
    if (!c || n < 0 || sio_client_send(c, packet, (size_t)n) != 0)
        return -1;
    return 0;
}

static void send_message(uint64_t seq)
{
    const struct options *o = run.o;
    unsigned conn = conn_of(seq);
    uint64_t now = clock_now_us();
    char head[48], packet[8192];
    int head_len = snprintf(head, sizeof head, "%" PRIu64 ".%" PRIu64 ".", seq, now);
    int pad = (int)o->size > head_len ? (int)o->size - head_len : 0;
    int n = snprintf(packet, sizeof packet,
                     "2%" PRIu64 "[\"send_message\",{\"channel_id\":\"%s-c%u\",\"content\":\"%s%.*s\","
                     "\"nonce\":\"%" PRIu64 "\"}]",
                     seq * ACK_KINDS + ACK_MESSAGE, run.prefix, channel_of(conn), head, pad, run.content_pad, seq);
    run.delivered[seq & (RING - 1)] = 0;
    run.sent++;
    if (!run.t_first_send)
        run.t_first_send = now;
    if (n >= (int)sizeof packet || send_packet(conn, packet, n) != 0) {
        run.rejected++;  /* never sent: counted as refused, so the run fails */
        note_error("a message could not be sent");
    }
}

static void send_typing(uint64_t k)
{
    unsigned conn = conn_of(k);
    char packet[160];
    int n = snprintf(packet, sizeof packet, "2%" PRIu64 "[\"typing_start\",{\"channel_id\":\"%s-c%u\"}]",
                     k * ACK_KINDS + ACK_TYPING, run.prefix, channel_of(conn));
    if (send_packet(conn, packet, n) == 0)
        run.typing_sent++;
}

static void send_presence(uint64_t k)
{
    unsigned conn = conn_of(k);
    run.status_idle[conn] ^= 1;
    char packet[96];
    int n = snprintf(packet, sizeof packet, "2%" PRIu64 "[\"presence_set\",{\"status\":\"%s\"}]",
                     k * ACK_KINDS + ACK_PRESENCE, run.status_idle[conn] ? "idle" : "online");
    if (send_packet(conn, packet, n) == 0)
        run.presence_sent++;
}

/* Everything due by now: typing k at k / rate, message k a second later,
 * status change k at k / presence rate. */
static void send_due(uint64_t now)
{
    const struct options *o = run.o;
    double rate = (double)run.n / o->period_s;
    double since = (double)(now - run.t_run_start) / 1e6;
    double lead = o->typing ? TYPING_LEAD_US / 1e6 : 0;
    uint64_t typing_due = since * rate > (double)run.to_send ? run.to_send : (uint64_t)(since * rate);
    while (o->typing && run.typing_sent < typing_due)
        send_typing(run.typing_sent);
    double message_time = since - lead;
    uint64_t message_due = message_time <= 0 ? 0 : (uint64_t)(message_time * rate);
    if (message_due > run.to_send)
        message_due = run.to_send;
    while (run.sent < message_due)
        send_message(run.sent);
    if (o->presence_period_s > 0 && message_due < run.to_send) {
        uint64_t presence_due = (uint64_t)(since * (double)run.n / o->presence_period_s);
        while (run.presence_sent < presence_due)
            send_presence(run.presence_sent);
    }
}

static void on_delivery(const char *packet, size_t len)
{
    uint64_t seq, sent_at;
    if (content_read(packet, len, &seq, &sent_at) != 0 || seq >= run.sent || run.sent - seq > RING / 2) {
        run.unexpected++;
        return;
    }
    uint64_t now = clock_now_us();
    histogram_record(run.latency, now > sent_at ? now - sent_at : 0);
    run.received++;
    run.t_last_delivery = now;
    uint32_t count = ++run.delivered[seq & (RING - 1)];
    if (count == run.o->room_size) {
        run.completed++;
        check_drained();
    } else if (count > run.o->room_size) {
        run.duplicates++;
    }
}

static int starts_with(const char *packet, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len > n && memcmp(packet, prefix, n) == 0;
}

/* An event from the server; only those of the measured part count. */
static void on_event(const char *packet, size_t len)
{
    if (run.phase < PHASE_RUN)
        return;
    if (starts_with(packet, len, "2[\"message\","))
        on_delivery(packet, len);
    else if (starts_with(packet, len, "2[\"typing_start\","))
        run.typing_starts++;
    else if (starts_with(packet, len, "2[\"typing_stop\","))
        run.typing_stops++;
    else if (starts_with(packet, len, "2[\"presence_update\","))
        run.presence_updates++;
    else
        run.other_events++;
}

static void maybe_start(void);

static void on_ack(const char *packet, size_t len)
{
    uint64_t id = strtoull(packet + 1, NULL, 10);
    if (sio_ack_ok(packet, len)) {
        if (id % ACK_KINDS == ACK_JOIN && ++run.joined == run.n)
            maybe_start();
        return;
    }
    char why[200];
    snprintf(why, sizeof why, "refused: %.*s", (int)(len > 150 ? 150 : len), packet);
    note_error(why);
    if (id % ACK_KINDS == ACK_JOIN) {
        run.setup_failed = 1;
        finish();
    } else if (id % ACK_KINDS == ACK_MESSAGE) {
        run.rejected++;
        check_drained();
    } else {
        run.refused_other++;
    }
}

static void on_ready(struct sio_client *c)
{
    unsigned i = (unsigned)(uintptr_t)sio_client_userdata(c);
    run.connecting--;
    char packet[160];
    int n = snprintf(packet, sizeof packet, "2%u[\"join_channel\",{\"channel_id\":\"%s-c%u\"}]", ACK_JOIN,
                     run.prefix, channel_of(i));
    sio_client_send(c, packet, (size_t)n);
    maybe_start();
}

static void on_packet(struct sio_client *c, const char *packet, size_t len)
{
    (void)c;
    if (packet[0] == '2')
        on_event(packet, len);
    else if (packet[0] == '3')
        on_ack(packet, len);
}

static void on_close(struct sio_client *c, const char *reason)
{
    unsigned i = (unsigned)(uintptr_t)sio_client_userdata(c);
    run.clients[i] = NULL;
    char why[200];
    snprintf(why, sizeof why, "connection %u: %s", i, reason);
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
    while (run.connecting < CONNECTING_MAX && run.launched < run.n && run.phase == PHASE_SETUP) {
        unsigned i = run.launched++;
        char sub[64], server[64], token[1024];
        snprintf(sub, sizeof sub, "%s-u%u", run.prefix, i);
        snprintf(server, sizeof server, "%s-s%u", run.prefix, channel_of(i) / o->channels_per_server);
        struct sio_client *c = NULL;
        if (token_mint(o->secret, sub, server, 3600, token, sizeof token))
            c = sio_client_open(run.base, &o->urls[i % o->url_count], token, i, run.spread, &handler,
                                (void *)(uintptr_t)i);
        if (!c) {
            note_error(errno ? strerror(errno) : "token does not fit");
            run.setup_failed = 1;
            finish();
            return;
        }
        run.clients[i] = c;
        run.connecting++;
    }
}

static void arm_phase_timer(unsigned ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    evtimer_add(run.phase_timer, &tv);
}

static void maybe_start(void)
{
    launch_more();
    if (run.phase != PHASE_SETUP || run.joined < run.n)
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
    switch (run.phase) {
    case PHASE_SETTLE: {
        run.phase = PHASE_RUN;
        run.t_run_start = clock_now_us();
        run.cpu_at_start = report_cpu_total_us(run.o->server_pids, run.o->server_pid_count);
        struct timeval ms1 = { 0, 1000 };
        event_add(run.tick, &ms1);
        break;
    }
    case PHASE_DRAIN:
        note_error("timed out draining");
        finish();
        break;
    default:
        break;
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (run.phase != PHASE_RUN)
        return;
    send_due(clock_now_us());
    if (run.sent == run.to_send) {
        run.phase = PHASE_DRAIN;
        event_del(run.tick);
        arm_phase_timer(run.o->drain_ms);
        check_drained();
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

/* PUT every channel of the run, each in its server. */
static int register_channels(void)
{
    const struct options *o = run.o;
    for (unsigned c = 0; c < run.channels; c++) {
        char path[160], body[160];
        snprintf(path, sizeof path, "/api/realtime/channels/%s-c%u", run.prefix, c);
        snprintf(body, sizeof body, "{\"server_id\":\"%s-s%u\",\"settings\":{\"slow_mode\":0}}", run.prefix,
                 c / o->channels_per_server);
        int status = http_call(run.base, &o->urls[0], "PUT", path, o->api_key, body, 10000);
        if (status < 200 || status > 299) {
            char why[224];
            snprintf(why, sizeof why, "PUT %s answered %d", path, status);
            note_error(why);
            return -1;
        }
    }
    return 0;
}

static int setup(struct event_base *base, const struct options *o)
{
    run.base = base;
    run.o = o;
    run.n = o->connections;
    run.channels = o->connections / o->room_size;
    run.spread = o->sources ? o->sources : 1 + run.n / 16000;
    run.to_send = (uint64_t)((double)run.n * o->duration_s / o->period_s);
    run.clients = calloc(run.n, sizeof *run.clients);
    run.status_idle = calloc(run.n, 1);
    run.delivered = calloc(RING, sizeof *run.delivered);
    run.latency = histogram_new();
    run.content_pad = malloc(o->size + 1);
    run.tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    run.phase_timer = evtimer_new(base, phase_cb, NULL);
    run.cpu_at_start = -1;
    if (!run.clients || !run.status_idle || !run.delivered || !run.latency || !run.content_pad || !run.tick ||
        !run.phase_timer || run.to_send == 0 || run.to_send > RING / 2) {
        note_error(run.to_send ? "out of memory" : "--duration and --period give no message (or too many)");
        return -1;
    }
    memset(run.content_pad, 'x', o->size);
    run.content_pad[o->size] = '\0';
    snprintf(run.prefix, sizeof run.prefix, "r%ld-%lx", (long)getpid(), (unsigned long)(clock_now_us() & 0xffffff));
    return register_channels();
}

/* Print the JSON line and the table; whether the run failed. */
static int report(const struct options *o, long long cpu_us)
{
    uint64_t expected = (run.sent - run.rejected) * o->room_size;
    uint64_t got = run.received - run.duplicates;
    uint64_t losses = expected > got ? expected - got : 0;
    uint64_t events = run.received + run.typing_starts + run.typing_stops + run.presence_updates + run.other_events;
    uint64_t end = run.t_last_delivery > run.t_first_send ? run.t_last_delivery : run.t_first_send;
    double elapsed = (double)(end - run.t_first_send) / 1e6;
    int failed = run.setup_failed || losses || run.rejected || run.duplicates || run.dropped || run.sent == 0 ||
                 run.refused_other;
    printf("{\"scenario\":\"rooms\",\"label\":");
    report_json_string(stdout, o->label);
    printf(",\"workers\":%u,\"connections\":%u,\"room_size\":%u,\"channels_per_server\":%u,\"period_s\":%.1f,"
           "\"presence_period_s\":%.1f,\"typing\":%s,\"size\":%u,\"elapsed_s\":%.3f,\"sent\":%" PRIu64
           ",\"typing_sent\":%" PRIu64 ",\"presence_sent\":%" PRIu64 ",\"rejected\":%" PRIu64
           ",\"expected\":%" PRIu64 ",\"received\":%" PRIu64 ",\"losses\":%" PRIu64 ",\"duplicates\":%" PRIu64
           ",\"unexpected\":%" PRIu64 ",\"typing_starts\":%" PRIu64 ",\"typing_stops\":%" PRIu64
           ",\"presence_updates\":%" PRIu64 ",\"events\":%" PRIu64 ",\"dropped\":%u,"
           "\"deliveries_per_s\":%.1f,\"events_per_s\":%.1f,",
           o->url_count, run.n, o->room_size, o->channels_per_server, o->period_s, o->presence_period_s,
           o->typing ? "true" : "false", o->size, elapsed, run.sent, run.typing_sent, run.presence_sent,
           run.rejected, expected, run.received, losses, run.duplicates, run.unexpected, run.typing_starts,
           run.typing_stops, run.presence_updates, events, run.dropped,
           elapsed > 0 ? (double)run.received / elapsed : 0, elapsed > 0 ? (double)events / elapsed : 0);
    report_latency_json(stdout, "latency_us", run.latency);
    printf(",");
    report_cpu_json(stdout, cpu_us, events);
    printf(",\"ok\":%s,\"error\":", failed ? "false" : "true");
    report_json_string(stdout, run.first_error);
    printf("}\n");
    fflush(stdout);

    fprintf(stderr, "rooms [%s]: %u connections in %u channels of %u (%u a server) over %u worker(s)\n", o->label,
            run.n, run.channels, o->room_size, o->channels_per_server, o->url_count);
    fprintf(stderr, "  %-22s %10.0f /s (%" PRIu64 " messages, %" PRIu64 " typing_start, %" PRIu64
                    " presence_set sent)\n", "message deliveries", elapsed > 0 ? (double)run.received / elapsed : 0,
            run.sent, run.typing_sent, run.presence_sent);
    fprintf(stderr, "  %-22s %10.0f /s (%" PRIu64 " typing_start, %" PRIu64 " typing_stop, %" PRIu64
                    " presence_update)\n", "all events delivered", elapsed > 0 ? (double)events / elapsed : 0,
            run.typing_starts, run.typing_stops, run.presence_updates);
    report_latency_row(stderr, "message latency", run.latency);
    report_cpu_row(stderr, cpu_us, events, elapsed);
    fprintf(stderr, "  %-22s expected %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64 ", duplicated %" PRIu64
                    "\n", "deliveries check", expected, run.received, losses, run.duplicates);
    if (run.first_error[0])
        fprintf(stderr, "  first error: %s\n", run.first_error);
    return failed;
}

static void teardown(struct event *timeout)
{
    for (unsigned i = 0; run.clients && i < run.n; i++)
        if (run.clients[i])
            sio_client_close(run.clients[i]);
    free(run.clients);
    free(run.status_idle);
    free(run.delivered);
    free(run.content_pad);
    histogram_free(run.latency);
    if (run.tick)
        event_free(run.tick);
    if (run.phase_timer)
        event_free(run.phase_timer);
    event_free(timeout);
}

int scenario_rooms(struct event_base *base, const struct options *o)
{
    struct event *timeout = evtimer_new(base, timeout_cb, NULL);
    struct timeval tv = { o->timeout_s, 0 };
    evtimer_add(timeout, &tv);
    if (setup(base, o) != 0) {
        run.setup_failed = 1;
    } else {
        launch_more();
        if (run.phase == PHASE_SETUP && !run.setup_failed)
            event_base_dispatch(base);
    }
    long long cpu_us = -1;
    if (run.cpu_at_start >= 0) {
        long long cpu_now = report_cpu_total_us(o->server_pids, o->server_pid_count);
        cpu_us = cpu_now >= 0 ? cpu_now - run.cpu_at_start : -1;
    }
    int failed = report(o, cpu_us);
    teardown(timeout);
    if (run.setup_failed)
        return 2;
    return failed ? 1 : 0;
}
