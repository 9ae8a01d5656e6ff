/* Long-polling without sticky sessions: a polling request that reaches a
 * worker which does not own its session (the sid starts with the owner's
 * worker id) is carried over the bus to the owner, and the owner's answer
 * comes back the same way.  Each worker listens on the bus room
 * "#eio:<worker id>":
 *     G <reply worker> <request id> <sid>    a GET, held by the requester
 *     P <sid>\n<body>                        a POST body (answered "ok" at once)
 *     R <request id> <status>\n<body>        the owner's answer to a GET
 * Without a connected bus nothing is forwarded: the sid is unknown here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include "bus.h"
#include "log.h"
#include "net/http.h"
#include "settings.h"
#include "eio/eio_internal.h"

struct forwarded_get {
    uint64_t id;
    struct evhttp_request *req;
    struct event *timer;
    struct forwarded_get *prev, *next;
};

static struct forwarded_get *forwarded;
static uint64_t forward_next_id;
static char forward_room[sizeof(EIO_FORWARD_ROOM_PREFIX) + EIO_WORKER_ID_LEN];

const char *eio_forward_room(void)
{
    return forward_room;
}

int eio_forward_init(void)
{
    snprintf(forward_room, sizeof(forward_room), "%s%s", EIO_FORWARD_ROOM_PREFIX, eio_worker_id);
    bus_room_interest(forward_room, 1);
    return 0;
}

static void forwarded_free(struct forwarded_get *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        forwarded = f->next;
    if (f->next)
        f->next->prev = f->prev;
    if (f->req)
        evhttp_connection_set_closecb(evhttp_request_get_connection(f->req), NULL, NULL);
    event_free(f->timer);
    free(f);
}

void eio_forward_free(void)
{
    while (forwarded) {
        struct forwarded_get *f = forwarded;
        struct evhttp_request *req = f->req;
        forwarded_free(f);
        if (req)
            evhttp_send_error(req, 503, NULL);
    }
}

static void forwarded_reply(struct forwarded_get *f, int status, const char *body, size_t len)
{
    struct evhttp_request *req = f->req;
    forwarded_free(f);
    if (!req)
        return;
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add(b, body, len);
    http_cors_apply(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      status == 200 ? "text/plain; charset=UTF-8" : "application/json");
    evhttp_send_reply(req, status, status == 200 ? "OK" : "Bad Request", b);
    if (b)
        evbuffer_free(b);
}

static void forwarded_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    static const char gone[] = "{\"code\":1,\"message\":\"Session ID unknown\"}";
    /* The owner never answered: it is gone, and so is the session. */
    forwarded_reply(arg, 400, gone, sizeof(gone) - 1);
}

static void forwarded_req_gone(struct evhttp_connection *evcon, void *arg)
{
    struct forwarded_get *f = arg;
    (void)evcon;
    f->req = NULL;
}

static int publish_to(const char *worker, size_t worker_len, const char *head, const char *body, size_t len)
{
    char room[sizeof(EIO_FORWARD_ROOM_PREFIX) + EIO_WORKER_ID_LEN];
    snprintf(room, sizeof(room), "%s%.*s", EIO_FORWARD_ROOM_PREFIX, (int)worker_len, worker);
    size_t hl = strlen(head);
    char *msg = malloc(hl + len + 1);
    if (!msg)
        return -1;
    memcpy(msg, head, hl);
    if (len)
        memcpy(msg + hl, body, len);
    msg[hl + len] = '\0';
    int r = bus_room_publish(room, msg, hl + len);
    free(msg);
    return r == SBR_OK ? 0 : -1;
}

int eio_forward_request(struct evhttp_request *req, const char *sid)
{
    if (strlen(sid) != EIO_SID_LEN || memcmp(sid, eio_worker_id, EIO_WORKER_ID_LEN) == 0 ||
        bus_state_get() != SBR_BUS_CONNECTED)
        return 0;
    for (size_t i = 0; i < EIO_SID_LEN; i++) {
        char c = sid[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method == EVHTTP_REQ_POST) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        if (len > settings_get()->max_payload) {
            eio_reply_error(req, 413, 3, "Payload too large");
            return 1;
        }
        char head[EIO_SID_LEN + 8];
        snprintf(head, sizeof(head), "P %s\n", sid);
        if (publish_to(sid, EIO_WORKER_ID_LEN, head, len ? (const char *)evbuffer_pullup(in, -1) : "", len) != 0)
            return 0;
        struct evbuffer *ok = evbuffer_new();
        if (ok)
            evbuffer_add(ok, "ok", 2);
        http_cors_apply(req);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=UTF-8");
        evhttp_send_reply(req, 200, "OK", ok);
        if (ok)
            evbuffer_free(ok);
        return 1;
    }
    if (method != EVHTTP_REQ_GET)
        return 0;
    struct forwarded_get *f = calloc(1, sizeof(*f));
    if (!f)
        return 0;
    f->timer = evtimer_new(evhttp_connection_get_base(evhttp_request_get_connection(req)), forwarded_timeout, f);
    if (!f->timer) {
        free(f);
        return 0;
    }
    f->id = ++forward_next_id;
    f->req = req;
    f->next = forwarded;
    if (forwarded)
        forwarded->prev = f;
    forwarded = f;
    char head[EIO_WORKER_ID_LEN + EIO_SID_LEN + 48];
    snprintf(head, sizeof(head), "G %s %llu %s", eio_worker_id, (unsigned long long)f->id, sid);
    if (publish_to(sid, EIO_WORKER_ID_LEN, head, NULL, 0) != 0) {
        f->req = NULL;
        forwarded_free(f);
        return 0;
    }
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), forwarded_req_gone, f);
    const struct core_settings *st = settings_get();
    uint64_t ms = st->ping_interval_ms + st->ping_timeout_ms + 1000;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(f->timer, &tv);
    return 1;
}

void eio_forward_answer(const char *remote, int status, const char *body, size_t len)
{
    const char *space = strchr(remote, ' ');
    if (!space)
        return;
    char head[64];
    snprintf(head, sizeof(head), "R %s %d\n", space + 1, status);
    publish_to(remote, (size_t)(space - remote), head, body, len);
}

static void deliver_get(const char *line)
{
    char worker[EIO_WORKER_ID_LEN + 1], sid[EIO_SID_LEN + 1];
    unsigned long long id;
    if (sscanf(line, "G %11s %llu %33s", worker, &id, sid) != 3 || strlen(worker) != EIO_WORKER_ID_LEN)
        return;
    char remote[EIO_WORKER_ID_LEN + 24];
    snprintf(remote, sizeof(remote), "%s %llu", worker, id);
    struct eio_session *s = eio_session_find(sid);
    if (!s) {
        static const char gone[] = "{\"code\":1,\"message\":\"Session ID unknown\"}";
        eio_forward_answer(remote, 400, gone, sizeof(gone) - 1);
        return;
    }
    if (s->transport != EIO_TRANSPORT_POLLING) {
        static const char bad[] = "{\"code\":3,\"message\":\"Bad request\"}";
        eio_forward_answer(remote, 400, bad, sizeof(bad) - 1);
        return;
    }
    eio_polling_get(s, NULL, remote);
}

void eio_forward_deliver(const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    size_t line_len = nl ? (size_t)(nl - data) : len;
    if (line_len < 3 || line_len > 128)
        return;
    char line[129];
    memcpy(line, data, line_len);
    line[line_len] = '\0';
    const char *body = nl ? nl + 1 : data + len;
    size_t body_len = len - (size_t)(body - data);
    if (line[0] == 'G') {
        deliver_get(line);
    } else if (line[0] == 'P' && nl) {
        char sid[EIO_SID_LEN + 1];
        if (sscanf(line, "P %33s", sid) != 1)
            return;
        struct eio_session *s = eio_session_find(sid);
        int status;
        if (s && s->transport == EIO_TRANSPORT_POLLING)
            eio_polling_process(s, body, body_len, &status);
    } else if (line[0] == 'R' && nl) {
        unsigned long long id;
        int status;
        if (sscanf(line, "R %llu %d", &id, &status) != 2)
            return;
        for (struct forwarded_get *f = forwarded; f; f = f->next) {
            if (f->id == id) {
                forwarded_reply(f, status == 200 ? 200 : 400, body, body_len);
                return;
            }
        }
    }
}
