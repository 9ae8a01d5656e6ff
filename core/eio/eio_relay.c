/* A polling GET or POST for another worker's session, replayed as an HTTP
 * request to the owner's worker address over a pooled keep-alive
 * connection; the owner's own answer (status and body) goes back to the
 * client, so a POST is acknowledged only by the session that took it, and a
 * GET is held exactly as long as the owner holds it. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "metrics.h"
#include "net/http.h"
#include "settings.h"
#include "eio/eio_relay.h"

/* Hand the owner's answer to the client. */
static void relay_answer(struct evhttp_request *req, struct evhttp_request *out_req, int status)
{
    struct evbuffer *body = evhttp_request_get_input_buffer(out_req);
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(out_req), "Content-Type");
    http_cors_apply(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      type ? type : "text/plain; charset=UTF-8");
    const char *reason = evhttp_request_get_response_code_line(out_req);
    evhttp_send_reply(req, status, reason && *reason ? reason : "OK", body);
}

static void relay_done(struct evhttp_request *out_req, void *arg)
{
    struct eio_forward *f = arg;
    if (f->state != FORWARD_SENT)
        return;
    int status = out_req ? evhttp_request_get_response_code(out_req) : 0;
    struct evhttp_request *req = f->req;
    if (req) {
        evhttp_connection_set_closecb(f->client, NULL, NULL);
        f->req = NULL;
    }
    f->state = FORWARD_DONE;
    f->out_reusable = status != 0;
    event_active(f->wake, EV_TIMEOUT, 1);
    if (status == 0) {
        /* The owner is unreachable or kept silent past every heartbeat:
         * it is gone, and its sessions with it. */
        core_metrics.eio_forward_failures++;
        log_debug("eio", "worker %s did not answer a forwarded request", f->owner);
        eio_peers_forget(f->owner);
        if (req)
            eio_reply_unknown_sid(req);
        return;
    }
    if (req)
        relay_answer(req, out_req, status);
}

/* The replayed request: the client's URI, body and Content-Type. */
static struct evhttp_request *relay_request(struct eio_forward *f, const struct eio_peer *p)
{
    struct evhttp_request *out_req = evhttp_request_new(relay_done, f);
    if (!out_req)
        return NULL;
    evhttp_request_own(out_req); /* its body is read in relay_done, freed with f */
    struct evkeyvalq *out_headers = evhttp_request_get_output_headers(out_req);
    evhttp_add_header(out_headers, "Host", p->text);
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(f->req), "Content-Type");
    if (type)
        evhttp_add_header(out_headers, "Content-Type", type);
    if (evhttp_request_get_command(f->req) == EVHTTP_REQ_POST)
        evbuffer_add_buffer(evhttp_request_get_output_buffer(out_req), evhttp_request_get_input_buffer(f->req));
    return out_req;
}

void eio_relay_poll(struct eio_forward *f, struct eio_peer *p, struct event_base *base)
{
    const struct core_settings *st = settings_get();
    core_metrics.eio_forwarded_polls++;
    f->out = eio_pool_take(&p->pool);
    if (!f->out)
        f->out = eio_pool_connect(base, &p->addr);
    struct evhttp_request *out_req = f->out ? relay_request(f, p) : NULL;
    if (!out_req) {
        f->state = FORWARD_UNKNOWN;
        event_active(f->wake, EV_TIMEOUT, 1);
        return;
    }
    /* The owner holds a GET at most one ping interval; past that and the
     * ping timeout, it is not coming back. */
    uint64_t ms = st->ping_interval_ms + st->ping_timeout_ms + 1000;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evhttp_connection_set_timeout_tv(f->out, &tv);
    f->state = FORWARD_SENT;
    f->out_req = out_req;
    /* May fail the request through relay_done before returning; f itself is
     * only freed from its wake event, later. */
    if (evhttp_make_request(f->out, out_req, evhttp_request_get_command(f->req), evhttp_request_get_uri(f->req)) !=
        0) {
        /* Not queued (or already failed through relay_done): freed with f. */
        if (f->state == FORWARD_SENT)
            f->state = FORWARD_UNKNOWN;
        event_active(f->wake, EV_TIMEOUT, 1);
    }
}
