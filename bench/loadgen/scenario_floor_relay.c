/* floor --shape fanout|rooms: the coalesced-write floor of a chat shape.
 * A child process pinned to --server-cpu runs the relay of floor_relay.c;
 * this process drives it the way the fanout and rooms scenarios drive a
 * server (the same windows, rates and checks, raw records instead of
 * Socket.IO) and reads the relay's CPU time from /proc over the measured
 * part.  No server doing the same work on that core spends less per
 * delivery, short of writing fewer, larger send()s than one per connection
 * per loop turn. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "content.h"
#include "floor_relay.h"
#include "histogram.h"
#include "options.h"
#include "report.h"
#include "scenario.h"
#include "sio_client.h"

#define RING (1u << 20)

static struct {
    struct event_base *base;
    const struct options *o;
    struct floor_relay_layout layout;
    int fanout;                         /* the shape: fanout (else rooms) */
    int *fds;                           /* the connections, as publishers write them */
    struct sio_client **readers;        /* the same, as the load tool reads them */
    uint32_t *delivered;
    uint16_t *owner;                    /* fanout: publisher of each sequence number */
    unsigned *publisher_in_flight;
    uint8_t *record;                    /* the record being sent, record_size bytes */
    uint64_t sent, completed, received, duplicates, to_send;
    uint64_t t_run_start, t_first_send, t_last_delivery;
    struct histogram *latency;
    struct event *tick, *drain_timer;
    int running, failed;
    pid_t child;
} fr;

static unsigned members(void)
{
    return fr.layout.room_size;
}

static void stop(void)
{
    fr.running = 0;
    event_base_loopbreak(fr.base);
}

static void check_drained(void)
{
    if (!fr.running && fr.sent == fr.completed)
        event_base_loopbreak(fr.base);
}

/* Send one record from connection `from` to room `room`. */
static int send_record(unsigned from, unsigned room)
{
    struct floor_record r = { clock_now_us(), fr.sent, room, from };
    memcpy(fr.record, &r, sizeof r);
    ssize_t n = send(fr.fds[from], fr.record, fr.layout.record_size, MSG_NOSIGNAL);
    if (n != (ssize_t)fr.layout.record_size) {
        fr.failed = 1;
        return -1;
    }
    fr.delivered[fr.sent & (RING - 1)] = 0;
    if (!fr.t_first_send)
        fr.t_first_send = r.sent_us;
    fr.sent++;
    return 0;
}

/* Fanout, flat out: keep publisher p's window full. */
static void pump_publisher(unsigned p)
{
    unsigned from = fr.layout.rooms * fr.layout.room_size + p;
    while (fr.running && fr.publisher_in_flight[p] < fr.o->window) {
        fr.owner[fr.sent & (RING - 1)] = (uint16_t)p;
        if (send_record(from, 0) != 0) {
            stop();
            return;
        }
        fr.publisher_in_flight[p]++;
    }
}

static void on_complete(uint64_t seq)
{
    fr.completed++;
    if (fr.fanout) {
        unsigned p = fr.owner[seq & (RING - 1)];
        fr.publisher_in_flight[p]--;
        pump_publisher(p);
    }
    check_drained();
}

static void on_packet(struct sio_client *c, const char *packet, size_t len)
{
    (void)c;
    uint64_t seq, sent_us;
    if (content_read(packet, len, &seq, &sent_us) != 0 || seq >= fr.sent || fr.sent - seq > RING / 2) {
        fr.failed = 1;
        return;
    }
    uint64_t now = clock_now_us();
    histogram_record(fr.latency, now > sent_us ? now - sent_us : 0);
    fr.received++;
    fr.t_last_delivery = now;
    uint32_t count = ++fr.delivered[seq & (RING - 1)];
    if (count == members())
        on_complete(seq);
    else if (count > members())
        fr.duplicates++;
}

static void on_ready(struct sio_client *c)
{
    (void)c;
}

static void on_close(struct sio_client *c, const char *reason)
{
    unsigned i = (unsigned)(uintptr_t)sio_client_userdata(c);
    fr.readers[i] = NULL;
    if (fr.running || fr.sent != fr.completed) {
        fprintf(stderr, "loadgen floor: connection %u: %s\n", i, reason);
        fr.failed = 1;
        stop();
    }
}

static const struct sio_client_handler handler = { on_ready, on_packet, on_close };

/* Rooms: every connection one record per period, the k-th send of a cycle
 * to channel k % rooms, as scenario_rooms does. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    const struct options *o = fr.o;
    double since = (double)(clock_now_us() - fr.t_run_start) / 1e6;
    uint64_t due = (uint64_t)(since * (double)o->connections / o->period_s);
    if (due > fr.to_send)
        due = fr.to_send;
    while (fr.running && fr.sent < due) {
        unsigned i = (unsigned)(fr.sent % o->connections);
        unsigned room = i % fr.layout.rooms;
        if (send_record(room * fr.layout.room_size + i / fr.layout.rooms, room) != 0)
            stop();
    }
    if (fr.sent == fr.to_send && fr.running) {
        fr.running = 0;
        event_del(fr.tick);
        struct timeval tv = { fr.o->drain_ms / 1000, (fr.o->drain_ms % 1000) * 1000 };
        evtimer_add(fr.drain_timer, &tv);
        check_drained();
    }
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (fr.running) {  /* fanout: the measured part is over */
        fr.running = 0;
        struct timeval tv = { fr.o->drain_ms / 1000, (fr.o->drain_ms % 1000) * 1000 };
        evtimer_add(fr.drain_timer, &tv);
        check_drained();
    } else {
        fr.failed = 1;  /* stragglers never came */
        event_base_loopbreak(fr.base);
    }
}

static void pin_to(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        perror("loadgen floor: sched_setaffinity");
}

/* Connect every reader to the relay, each announcing its index. */
static int connect_all(const struct sockaddr_in *addr)
{
    for (unsigned i = 0; i < fr.layout.connections; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint32_t index = i;
        if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0 ||
            send(fd, &index, sizeof index, MSG_NOSIGNAL) != (ssize_t)sizeof index ||
            evutil_make_socket_nonblocking(fd) != 0 ||
            !(fr.readers[i] = sio_client_adopt(fr.base, fd, &handler, (void *)(uintptr_t)i))) {
            perror("loadgen floor: connect");
            if (fd >= 0)
                close(fd);
            return -1;
        }
        fr.fds[i] = fd;
    }
    return 0;
}

/* A listener, and the child relaying on it; the pipes to stop it and read
 * its count of send()s. */
static int start_relay(struct sockaddr_in *addr, int *stop_w, int *result_r)
{
    socklen_t alen = sizeof *addr;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int stop_pipe[2], result[2];
    if (listener < 0 || bind(listener, (struct sockaddr *)addr, sizeof *addr) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, (struct sockaddr *)addr, &alen) != 0 || pipe(stop_pipe) != 0 || pipe(result) != 0) {
        perror("loadgen floor: setup");
        return -1;
    }
    fr.child = fork();
    if (fr.child < 0) {
        perror("loadgen floor: fork");
        return -1;
    }
    if (fr.child == 0) {
        close(stop_pipe[1]);
        close(result[0]);
        pin_to(fr.o->server_cpu);
        _exit(floor_relay_serve(listener, stop_pipe[0], result[1], &fr.layout));
    }
    close(listener);
    close(stop_pipe[0]);
    close(result[1]);
    *stop_w = stop_pipe[1];
    *result_r = result[0];
    return 0;
}

static int init(struct event_base *base, const struct options *o)
{
    fr.base = base;
    fr.o = o;
    fr.fanout = o->shape == FLOOR_FANOUT;
    if (fr.fanout) {
        fr.layout = (struct floor_relay_layout){ o->subscribers + o->publishers, 1, o->subscribers, o->size,
                                                 o->size };
    } else {
        fr.layout = (struct floor_relay_layout){ o->connections, o->connections / o->room_size, o->room_size,
                                                 o->size, o->size };
        fr.to_send = (uint64_t)((double)o->connections * o->duration_s / o->period_s);
    }
    fr.readers = calloc(fr.layout.connections, sizeof *fr.readers);
    fr.fds = calloc(fr.layout.connections, sizeof *fr.fds);
    fr.delivered = calloc(RING, sizeof *fr.delivered);
    fr.owner = calloc(RING, sizeof *fr.owner);
    fr.publisher_in_flight = calloc(o->publishers, sizeof *fr.publisher_in_flight);
    fr.record = calloc(1, o->size);
    fr.latency = histogram_new();
    fr.tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    fr.drain_timer = evtimer_new(base, drain_cb, NULL);
    if (!fr.readers || !fr.fds || !fr.delivered || !fr.owner || !fr.publisher_in_flight || !fr.record || !fr.latency ||
        !fr.tick || !fr.drain_timer || (!fr.fanout && (fr.to_send == 0 || fr.to_send > RING / 2)))
        return -1;
    memset(fr.record + sizeof(struct floor_record), 'x', o->size - sizeof(struct floor_record));
    return 0;
}

/* The measured part: flat out for --duration (fanout), or every connection
 * at its rate for --duration (rooms); then the stragglers. */
static void measure(void)
{
    fr.running = 1;
    fr.t_run_start = clock_now_us();
    if (fr.fanout) {
        struct timeval tv = { (time_t)fr.o->duration_s, (long)((fr.o->duration_s - (long)fr.o->duration_s) * 1e6) };
        evtimer_add(fr.drain_timer, &tv);
        for (unsigned p = 0; p < fr.o->publishers; p++)
            pump_publisher(p);
    } else {
        struct timeval ms1 = { 0, 1000 };
        event_add(fr.tick, &ms1);
    }
    event_base_dispatch(fr.base);
}

static void report(long long cpu_us, uint64_t sends, int status)
{
    const struct options *o = fr.o;
    uint64_t expected = fr.sent * members();
    uint64_t losses = expected > fr.received - fr.duplicates ? expected - (fr.received - fr.duplicates) : 0;
    uint64_t end = fr.t_last_delivery > fr.t_first_send ? fr.t_last_delivery : fr.t_first_send;
    double elapsed = (double)(end - fr.t_first_send) / 1e6;
    double per_s = elapsed > 0 ? (double)fr.received / elapsed : 0;
    printf("{\"scenario\":\"floor\",\"shape\":\"%s\",\"label\":", fr.fanout ? "fanout" : "rooms");
    report_json_string(stdout, o->label);
    printf(",\"connections\":%u,\"room_size\":%u,\"publishers\":%u,\"window\":%u,\"period_s\":%.1f,"
           "\"size\":%u,\"elapsed_s\":%.3f,\"sent\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"received\":%" PRIu64
           ",\"losses\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"deliveries_per_s\":%.1f,\"sends\":%" PRIu64
           ",\"deliveries_per_send\":%.2f,",
           fr.layout.connections, members(), fr.fanout ? o->publishers : 0, fr.fanout ? o->window : 0,
           fr.fanout ? 0 : o->period_s, o->size, elapsed, fr.sent, expected, fr.received, losses, fr.duplicates,
           per_s, sends, sends ? (double)fr.received / (double)sends : 0);
    report_latency_json(stdout, "latency_us", fr.latency);
    printf(",");
    report_cpu_json(stdout, cpu_us, fr.received);
    printf(",\"ok\":%s}\n", status == 0 ? "true" : "false");
    fflush(stdout);
    fprintf(stderr, "floor, %s shape: a relay writing each connection once per loop turn, %u connections\n",
            fr.fanout ? "fanout" : "rooms", fr.layout.connections);
    fprintf(stderr, "  %-22s %10.0f /s (%" PRIu64 " in %.2f s, %.1f per send())\n", "deliveries", per_s,
            fr.received, elapsed, sends ? (double)fr.received / (double)sends : 0);
    report_latency_row(stderr, "end-to-end latency", fr.latency);
    report_cpu_row(stderr, cpu_us, fr.received, elapsed);
    fprintf(stderr, "  %-22s expected %" PRIu64 ", received %" PRIu64 "\n", "deliveries check", expected,
            fr.received);
}

static void cleanup(void)
{
    for (unsigned i = 0; fr.readers && i < fr.layout.connections; i++)
        if (fr.readers[i])
            sio_client_close(fr.readers[i]);  /* closes the socket too */
    free(fr.readers);
    free(fr.fds);
    free(fr.delivered);
    free(fr.owner);
    free(fr.publisher_in_flight);
    free(fr.record);
    histogram_free(fr.latency);
    if (fr.tick)
        event_free(fr.tick);
    if (fr.drain_timer)
        event_free(fr.drain_timer);
}

int scenario_floor_relay(struct event_base *base, const struct options *o)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int stop_w = -1, result_r = -1, status = 0;
    if (init(base, o) != 0 || start_relay(&addr, &stop_w, &result_r) != 0)
        status = 2;
    if (status == 0 && connect_all(&addr) != 0)
        status = 2;
    long long cpu_us = -1;
    uint64_t sends = 0;
    if (status == 0) {
        long long before = report_cpu_us(fr.child);
        measure();
        long long after = report_cpu_us(fr.child);
        cpu_us = before >= 0 && after >= 0 ? after - before : -1;
        if (write(stop_w, "s", 1) != 1 || read(result_r, &sends, sizeof sends) != (ssize_t)sizeof sends)
            fr.failed = 1;
    }
    if (stop_w >= 0)
        close(stop_w);
    if (result_r >= 0)
        close(result_r);
    int wstatus = 0;
    if (fr.child > 0) {
        if (status != 0)
            kill(fr.child, SIGKILL);
        waitpid(fr.child, &wstatus, 0);
    }
    uint64_t lost = fr.sent * members() > fr.received ? fr.sent * members() - fr.received : 0;
    if (status == 0 && (fr.failed || lost || fr.duplicates || !fr.sent || !WIFEXITED(wstatus) ||
                        WEXITSTATUS(wstatus) != 0))
        status = 1;
    report(cpu_us, sends, status);
    cleanup();
    return status;
}
