/* floor: what the kernel alone costs for fanout-20, with no server at all.
 * A child process (pinned to --server-cpu) accepts S loopback TCP
 * connections and, at --rate rounds per second, send()s one --size-byte
 * payload to each of them in a plain loop: the least any single-threaded
 * server must do to deliver one message to S sockets.  This process reads
 * them the way the fanout scenario's clients do (one event per socket, one
 * read() into a shared buffer), and reports the same end-to-end latency.
 * No server on that core can have a lower latency than this floor. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "clock.h"
#include "histogram.h"
#include "options.h"
#include "report.h"
#include "scenario.h"

struct floor_conn {
    struct event *ev;
    uint32_t pos;    /* bytes of the current payload already read */
    uint8_t ts[8];   /* its send time, as far as read */
};

static struct {
    struct floor_conn *conns;
    unsigned size;
    uint64_t received, expected;
    struct histogram *latency;
    struct event_base *base;
    int failed;
} fl;

static void floor_pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        perror("loadgen floor: sched_setaffinity");
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The child: accept, wait for the go byte, send the rounds, report the
 * mean time of one round (all S sends) on the pipe. */
static int floor_sender(int listener, int go, int result, const struct options *o, unsigned rounds)
{
    floor_pin(o->server_cpu);
    int *fds = calloc(o->subscribers, sizeof(*fds));
    char *payload = calloc(1, o->size);
    if (!fds || !payload)
        return 2;
    for (unsigned i = 0; i < o->subscribers; i++) {
        fds[i] = accept(listener, NULL, NULL);
        int one = 1;
        if (fds[i] < 0 || setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
            return 2;
    }
    char byte;
    if (read(go, &byte, 1) != 1)
        return 2;
    memset(payload + 8, 'x', o->size - 8);
    uint64_t start = clock_now_us(), busy = 0;
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t due = start + (uint64_t)((double)r * 1e6 / o->rate), now = clock_now_us();
        if (due > now) {
            struct timespec ts = {(time_t)((due - now) / 1000000), (long)((due - now) % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        uint64_t t0 = clock_now_us();
        memcpy(payload, &t0, 8);
        for (unsigned i = 0; i < o->subscribers; i++)
            if (send(fds[i], payload, o->size, MSG_NOSIGNAL) != (ssize_t)o->size)
                return 1;
        busy += clock_now_us() - t0;
    }
    uint64_t per_round = rounds ? busy / rounds : 0;
    return write_all(result, &per_round, sizeof(per_round)) == 0 ? 0 : 2;
}

static void floor_on_read(evutil_socket_t fd, short what, void *arg)
{
    static uint8_t buf[1 << 16];
    struct floor_conn *c = arg;
    (void)what;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        event_del(c->ev);
        if (fl.received < fl.expected)
            fl.failed = 1;
        return;
    }
    uint64_t now = clock_now_us();
    for (ssize_t i = 0; i < n; i++) {
        if (c->pos < 8)
            c->ts[c->pos] = buf[i];
        if (++c->pos == fl.size) {
            uint64_t sent;
            memcpy(&sent, c->ts, 8);
            histogram_record(fl.latency, now > sent ? now - sent : 0);
            c->pos = 0;
            if (++fl.received == fl.expected)
                event_base_loopbreak(fl.base);
        }
    }
}

static void floor_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    fl.failed = 1;
    event_base_loopbreak(fl.base);
}

/* Connect the n readers to the sender; 0, or 2. */
static int floor_connect(struct event_base *base, const struct sockaddr_in *addr, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0 ||
            evutil_make_socket_nonblocking(fd) != 0 ||
            !(fl.conns[i].ev = event_new(base, fd, EV_READ | EV_PERSIST, floor_on_read, &fl.conns[i])) ||
            event_add(fl.conns[i].ev, NULL) != 0) {
            perror("loadgen floor: connect");
            if (fd >= 0 && !fl.conns[i].ev)
                close(fd);
            return 2;
        }
    }
    return 0;
}

static void floor_report(const struct options *o, uint64_t per_round, int status)
{
    printf("{\"scenario\":\"floor\",\"label\":");
    report_json_string(stdout, o->label);
    printf(",\"subscribers\":%u,\"size\":%u,\"rate\":%.1f,\"expected\":%" PRIu64 ",\"received\":%" PRIu64
           ",\"losses\":%" PRIu64 ",\"send_round_us\":%" PRIu64 ",",
           o->subscribers, o->size, o->rate, fl.expected, fl.received, fl.expected - fl.received, per_round);
    report_latency_json(stdout, "latency_us", fl.latency);
    printf(",\"ok\":%s}\n", status == 0 ? "true" : "false");
    fflush(stdout);
    fprintf(stderr, "floor: %u loopback sockets, %u-byte payloads sent by a bare send() loop, %.0f rounds/s\n",
            o->subscribers, o->size, o->rate);
    fprintf(stderr, "  %-22s %10.3f ms (all %u sends of one round)\n", "sender time per round",
            (double)per_round / 1000, o->subscribers);
    report_latency_row(stderr, "end-to-end latency", fl.latency);
    fprintf(stderr, "  %-22s expected %" PRIu64 ", received %" PRIu64 "\n", "deliveries check", fl.expected,
            fl.received);
}

int scenario_floor(struct event_base *base, const struct options *o)
{
    if (o->shape != FLOOR_SEND_LOOP)
        return scenario_floor_relay(base, o);
    unsigned rounds = o->rate > 0 ? (unsigned)(o->rate * o->duration_s) : 0;
    if (rounds == 0 || o->size < 8) {
        fprintf(stderr, "loadgen floor: --rate and --duration must give at least one round\n");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(addr);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int go[2], result[2];
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(listener, (int)o->subscribers) != 0 || getsockname(listener, (struct sockaddr *)&addr, &alen) != 0 ||
        pipe(go) != 0 || pipe(result) != 0) {
        perror("loadgen floor: setup");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("loadgen floor: fork");
        return 2;
    }
    if (child == 0) {
        close(go[1]);
        close(result[0]);
        _exit(floor_sender(listener, go[0], result[1], o, rounds));
    }
    close(listener);
    close(go[0]);
    close(result[1]);

    fl = (typeof(fl)){.size = o->size, .base = base, .latency = histogram_new(),
                      .expected = (uint64_t)rounds * o->subscribers};
    fl.conns = calloc(o->subscribers, sizeof(*fl.conns));
    int status = fl.latency && fl.conns ? floor_connect(base, &addr, o->subscribers) : 2;
    struct event *timeout = evtimer_new(base, floor_on_timeout, NULL);
    struct timeval tv = {(time_t)(o->duration_s + 10), 0};
    uint64_t per_round = 0;
    if (status == 0 && timeout && evtimer_add(timeout, &tv) == 0 && write_all(go[1], "g", 1) == 0) {
        event_base_dispatch(base);
        if (read(result[0], &per_round, sizeof(per_round)) != (ssize_t)sizeof(per_round))
            fl.failed = 1;
    } else {
        status = 2;
    }
    close(go[1]);
    close(result[0]);
    int wstatus = 0;
    if (status != 0)
        kill(child, SIGKILL);
    waitpid(child, &wstatus, 0);
    if (status == 0 && (fl.failed || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0))
        status = 1;

    floor_report(o, per_round, status);

    for (unsigned i = 0; fl.conns && i < o->subscribers; i++) {
        if (fl.conns[i].ev) {
            evutil_closesocket(event_get_fd(fl.conns[i].ev));
            event_free(fl.conns[i].ev);
        }
    }
    free(fl.conns);
    if (timeout)
        event_free(timeout);
    histogram_free(fl.latency);
    return status;
}
