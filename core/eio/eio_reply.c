/* Engine.IO's own answers over HTTP, shared by the transport and the
 * relay. */
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "net/http.h"
#include "eio/eio_relay.h"

const char eio_unknown_sid_json[] = "{\"code\":1,\"message\":\"Session ID unknown\"}";

void eio_reply_error(struct evhttp_request *req, int status, int code, const char *message)
{
    struct evbuffer *body = evbuffer_new();
    http_cors_apply(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    if (body)
        evbuffer_add_printf(body, "{\"code\":%d,\"message\":\"%s\"}", code, message);
    evhttp_send_reply(req, status, status == 400 ? "Bad Request" : "Error", body);
    if (body)
        evbuffer_free(body);
}

void eio_reply_text(struct evhttp_request *req, struct evbuffer *body)
{
    http_cors_apply(req);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=UTF-8");
    evhttp_send_reply(req, 200, "OK", body);
}

void eio_reply_unknown_sid(struct evhttp_request *req)
{
    eio_reply_error(req, 400, EIO_ERR_UNKNOWN_SID, "Session ID unknown");
}
