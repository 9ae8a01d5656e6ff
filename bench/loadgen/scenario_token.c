/* token: POST /api/realtime/token with the API key over K keep-alive
 * connections, each sending its next request as soon as the previous one is
 * answered, for the run's duration. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "clock.h"
#include "histogram.h"
#include "options.h"
#include "report.h"
#include "scenario.h"

struct lane {
    struct evhttp_connection *conn;
    unsigned index;
    uint64_t sent_at;
    int busy;
};

static struct {
    struct event_base *base;
    const struct options *o;
    struct lane *lanes;
    int stopping;
    unsigned busy;
    uint64_t ok, failed, t_start, t_end;
    struct histogram *latency;
    char host[80], auth[512];
    char first_error[160];
} run;

static void note_error(const char *what)
{
    if (!run.first_error[0])
        snprintf(run.first_error, sizeof run.first_error, "%s", what);
}

static void send_next(struct lane *lane);

static void answered_cb(struct evhttp_request *req, void *arg)
{
    struct lane *lane = arg;
    uint64_t now = clock_now_us();
    lane->busy = 0;
    run.busy--;
    int status = req ? evhttp_request_get_response_code(req) : 0;
    struct evbuffer *body = req ? evhttp_request_get_input_buffer(req) : NULL;
    if (status == 200 && body && evbuffer_search(body, "\"token\"", 7, NULL).pos >= 0) {
        run.ok++;
        histogram_record(run.latency, now - lane->sent_at);
    } else {
        char why[64];
        snprintf(why, sizeof why, "POST /api/realtime/token answered %d", status);
        note_error(why);
        run.failed++;
    }
    run.t_end = now;
    if (run.stopping) {
        if (run.busy == 0)
            event_base_loopbreak(run.base);
        return;
    }
    send_next(lane);
}

static void send_next(struct lane *lane)
{
    struct evhttp_request *req = evhttp_request_new(answered_cb, lane);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Host", run.host);
    evhttp_add_header(headers, "Authorization", run.auth);
    evhttp_add_header(headers, "Content-Type", "application/json");
    evbuffer_add_printf(evhttp_request_get_output_buffer(req),
                        "{\"user_id\":\"token-user-%u\",\"servers\":[\"bench-server\"],\"session_id\":\"s%u\"}",
                        lane->index, lane->index);
    lane->sent_at = clock_now_us();
    if (evhttp_make_request(lane->conn, req, EVHTTP_REQ_POST, "/api/realtime/token") != 0) {
        note_error("evhttp_make_request failed");
        run.failed++;
        return;
    }
    lane->busy = 1;
    run.busy++;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    run.stopping = 1;
    if (run.busy == 0)
        event_base_loopbreak(run.base);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    note_error("timed out");
    run.failed++;
    event_base_loopbreak(run.base);
}

int scenario_token(struct event_base *base, const struct options *o)
{
    run.base = base;
    run.o = o;
    run.latency = histogram_new();
    run.lanes = calloc(o->concurrency, sizeof *run.lanes);
    snprintf(run.host, sizeof run.host, "%s:%d", o->urls[0].host, o->urls[0].port);
    snprintf(run.auth, sizeof run.auth, "Bearer %s", o->api_key);

    struct event *stop = evtimer_new(base, stop_cb, NULL);
    struct timeval duration = { (time_t)o->duration_s, (suseconds_t)((o->duration_s - (time_t)o->duration_s) * 1e6) };
    evtimer_add(stop, &duration);
    struct event *timeout = evtimer_new(base, timeout_cb, NULL);
    struct timeval tv = { o->timeout_s, 0 };
    evtimer_add(timeout, &tv);

    run.t_start = clock_now_us();
    for (unsigned i = 0; i < o->concurrency; i++) {
        struct lane *lane = &run.lanes[i];
        lane->index = i;
        lane->conn = evhttp_connection_base_new(base, NULL, o->urls[0].host, (unsigned short)o->urls[0].port);
        evhttp_connection_set_timeout(lane->conn, 10);
        send_next(lane);
    }
    if (run.busy)
        event_base_dispatch(base);

    double elapsed = run.t_end > run.t_start ? (double)(run.t_end - run.t_start) / 1e6 : 0;
    double rate = elapsed > 0 ? (double)run.ok / elapsed : 0;
    int failed = run.failed || run.ok == 0;

    printf("{\"scenario\":\"token\",\"label\":");
    report_json_string(stdout, o->label);
    printf(",\"connections\":%u,\"elapsed_s\":%.3f,\"requests\":%llu,\"failed\":%llu,\"requests_per_s\":%.1f,",
           o->concurrency, elapsed, (unsigned long long)run.ok, (unsigned long long)run.failed, rate);
    report_latency_json(stdout, "latency_us", run.latency);
    printf(",\"ok\":%s,\"error\":", failed ? "false" : "true");
    report_json_string(stdout, run.first_error);
    printf("}\n");
    fflush(stdout);

    fprintf(stderr, "token [%s]: %u keep-alive connections for %.2f s\n", o->label, o->concurrency, elapsed);
    fprintf(stderr, "  %-22s %10.0f /s (%llu answered, %llu failed)\n", "tokens", rate,
            (unsigned long long)run.ok, (unsigned long long)run.failed);
    report_latency_row(stderr, "request latency", run.latency);
    if (run.first_error[0])
        fprintf(stderr, "  first error: %s\n", run.first_error);

    for (unsigned i = 0; i < o->concurrency; i++)
        if (run.lanes[i].conn)
            evhttp_connection_free(run.lanes[i].conn);
    free(run.lanes);
    histogram_free(run.latency);
    event_free(stop);
    event_free(timeout);
    return failed ? 1 : 0;
}
