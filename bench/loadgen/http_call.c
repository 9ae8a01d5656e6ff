#include "http_call.h"

#include <string.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "net.h"

struct call {
    int status;
    int done;
};

static void done_cb(struct evhttp_request *req, void *arg)
{
    struct call *call = arg;
    call->status = req ? evhttp_request_get_response_code(req) : -1;
    if (call->status == 0)
        call->status = -1;
    call->done = 1;
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct call *call = arg;
    call->status = -1;
    call->done = 1;
}

int http_call(struct event_base *base, const struct endpoint *ep, const char *method, const char *path,
              const char *bearer, const char *json_body, int timeout_ms)
{
    enum evhttp_cmd_type cmd = strcmp(method, "PUT") == 0 ? EVHTTP_REQ_PUT
                               : strcmp(method, "GET") == 0 ? EVHTTP_REQ_GET
                                                            : EVHTTP_REQ_POST;
    struct evhttp_connection *conn = evhttp_connection_base_new(base, NULL, ep->host, (unsigned short)ep->port);
    if (!conn)
        return -1;
    struct call call = { .status = -1 };
    struct evhttp_request *req = evhttp_request_new(done_cb, &call);
    struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
    char host[80], auth[512];
    evutil_snprintf(host, sizeof host, "%s:%d", ep->host, ep->port);
    evutil_snprintf(auth, sizeof auth, "Bearer %s", bearer);
    evhttp_add_header(headers, "Host", host);
    evhttp_add_header(headers, "Authorization", auth);
    evhttp_add_header(headers, "Content-Type", "application/json");
    if (json_body)
        evbuffer_add(evhttp_request_get_output_buffer(req), json_body, strlen(json_body));

    struct event *timer = evtimer_new(base, timeout_cb, &call);
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(timer, &tv);
    if (evhttp_make_request(conn, req, cmd, path) != 0)
        call.done = 1;
    while (!call.done && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    event_free(timer);
    evhttp_connection_free(conn);
    return call.status;
}
