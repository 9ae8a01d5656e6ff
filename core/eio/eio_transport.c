/* Engine.IO over HTTP: the handshake, long-polling GET/POST, the WebSocket
 * transport, and the upgrade from polling (2probe, 3probe, 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "net/http.h"
#include "eio/eio_forward.h"
#include "eio/eio_internal.h"
#include "eio/eio_relay.h"
#include "eio/eio_packet.h"
#include "eio/eio_polling.h"
#include "util/base64.h"
#include "ws/ws_conn.h"
#include "ws/ws_frame.h"
#include "ws/ws_handshake.h"

/* Seconds a handshake refused at max_connections is told to wait. */
#define EIO_FULL_RETRY_AFTER "5"

static void poll_connection_closed(struct evhttp_connection *evcon, void *arg)
{
    struct eio_session *s = arg;
    (void)evcon;
    /* evhttp frees the request with its connection; forget it. */
    s->poll = NULL;
}

static struct evbuffer *open_packet(const struct eio_session *s, int upgrades)
{
    const struct core_settings *st = settings_get();
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_add_printf(b,
                            "0{\"sid\":\"%s\",\"upgrades\":[%s],\"pingInterval\":%llu,"
                            "\"pingTimeout\":%llu,\"maxPayload\":%llu}",
                            s->sid, upgrades ? "\"websocket\"" : "",
                            (unsigned long long)st->ping_interval_ms, (unsigned long long)st->ping_timeout_ms,
                            (unsigned long long)st->max_payload);
    return b;
}

/* --- the WebSocket transport ------------------------------------------ */

static void ws_text_packet(struct eio_session *s, const uint8_t *data, size_t len)
{
    struct eio_packet pk;
    if (eio_packet_decode_text((const char *)data, len, &pk) != 0) {
        core_metrics.protocol_errors++;
        eio_session_terminate(s, "parse error");
        return;
    }
    eio_session_on_packet(s, pk.type, pk.data, pk.len, 0);
}

static void ws_on_message(void *userdata, int binary, const uint8_t *data, size_t len)
{
    struct eio_session *s = userdata;
    if (binary)
        eio_session_on_packet(s, EIO_MESSAGE, data, len, 1);
    else
        ws_text_packet(s, data, len);
}

static void ws_on_close(void *userdata, unsigned code, const char *why)
{
    struct eio_session *s = userdata;
    s->ws = NULL;
    if (code == WS_CLOSE_PROTOCOL || code == WS_CLOSE_BAD_DATA || code == WS_CLOSE_TOO_BIG) {
        core_metrics.protocol_errors++;
        log_debug("eio", "session %s: WebSocket closed with %u (%s)", s->sid, code, why);
        eio_session_terminate(s, "transport error");
        return;
    }
    eio_session_terminate(s, "transport close");
}

static const struct ws_callbacks eio_ws_callbacks = {ws_on_message, ws_on_close};

static void upgrade_complete(struct eio_session *s)
{
    eio_polling_noop(s);
    s->ws = s->probe;
    s->probe = NULL;
    s->probe_ready = 0;
    s->transport = EIO_TRANSPORT_WEBSOCKET;
    ws_conn_set_callbacks(s->ws, &eio_ws_callbacks, s);
    if (log_enabled(LOG_DEBUG_)) {
        const struct log_field f[] = {{"sid", s->sid}, {"transport", "websocket"}};
        log_fields(LOG_DEBUG_, "eio", f, 2, "session upgraded from polling");
    }
    size_t n = s->queue_len;
    struct eio_buf **q = s->queue;
    s->queue = NULL;
    s->queue_len = s->queue_cap = s->queue_bytes = 0;
    /* A session closed while the client was upgrading (a drain, say) kept
     * its queue and close packet for the next GET, which will not come:
     * they go out on the WebSocket, then its close frame. */
    int closing = s->closing;
    s->closing = 0;
    for (size_t i = 0; i < n; i++) {
        eio_session_send(s, q[i]);
        eio_buf_unref(q[i]);
    }
    free(q);
    if (closing)
        eio_session_terminate(s, "transport close");
}

static void probe_on_message(void *userdata, int binary, const uint8_t *data, size_t len)
{
    struct eio_session *s = userdata;
    if (!binary && len == 6 && memcmp(data, "2probe", 6) == 0) {
        ws_conn_send(s->probe, 0, "3probe", 6);
        s->probe_ready = 1;
        /* Release the client's pending GET so it can pause polling. */
        eio_polling_noop(s);
        return;
    }
    if (!binary && len == 1 && data[0] == '5' && s->probe_ready) {
        upgrade_complete(s);
        return;
    }
    struct ws_conn *probe = s->probe;
    s->probe = NULL;
    s->probe_ready = 0;
    ws_conn_close(probe, WS_CLOSE_PROTOCOL, "unexpected packet during upgrade");
}

static void probe_on_close(void *userdata, unsigned code, const char *why)
{
    struct eio_session *s = userdata;
    (void)code;
    (void)why;
    s->probe = NULL;
    s->probe_ready = 0;
}

static const struct ws_callbacks eio_probe_callbacks = {probe_on_message, probe_on_close};

/* A WebSocket that is only answered, then closed. */
static const struct ws_callbacks ignore_callbacks = {NULL, NULL};

/* --- requests ------------------------------------------------------------ */

static int session_open(struct eio_session *s)
{
    s->owner = eio_server.handler->on_open(s);
    return s->owner ? 0 : -1;
}

static void handshake(struct evhttp_request *req, int websocket)
{
    const struct core_settings *st = settings_get();
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        eio_reply_error(req, 400, EIO_ERR_BAD_HANDSHAKE_METHOD, "Bad handshake method");
        return;
    }
    if (st->max_connections && eio_server.sessions.count >= st->max_connections) {
        core_metrics.connections_refused_max++;
        char limit[24];
        snprintf(limit, sizeof(limit), "%llu", (unsigned long long)st->max_connections);
        const struct log_field f[] = {{"reason", "max_connections"}, {"limit", limit}};
        log_fields(LOG_WARN_, "eio", f, 2, "refusing a session: max_connections (%s) reached", limit);
        /* A balancer or a client may try another worker now, this one later. */
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", EIO_FULL_RETRY_AFTER);
        eio_reply_error(req, 503, EIO_ERR_FORBIDDEN, "Too many connections");
        return;
    }
    const char *key = NULL;
    if (websocket) {
        const char *why = NULL;
        key = ws_handshake_check(req, &why);
        if (!key) {
            eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
            return;
        }
    }
    struct eio_session *s = eio_session_create(req, websocket ? EIO_TRANSPORT_WEBSOCKET : EIO_TRANSPORT_POLLING);
    if (!s) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    struct evbuffer *open = open_packet(s, !websocket);
    if (!open) {
        eio_session_terminate(s, "server error");
        evhttp_send_error(req, 500, NULL);
        return;
    }
    if (websocket) {
        char keycopy[32];
        snprintf(keycopy, sizeof(keycopy), "%s", key);
        s->ws = ws_conn_takeover(req, keycopy, st->max_payload, &eio_ws_callbacks, s);
        if (!s->ws) {
            evbuffer_free(open);
            eio_session_terminate(s, "server error");
            evhttp_send_error(req, 500, NULL);
            return;
        }
        size_t n = evbuffer_get_length(open);
        ws_conn_send(s->ws, 0, evbuffer_pullup(open, -1), n);
        core_metrics.bytes_out += n;
    } else {
        eio_reply_text(req, open);
    }
    evbuffer_free(open);
    eio_session_heartbeat_start(s);
    if (session_open(s) != 0)
        eio_session_terminate(s, "server error");
}

/* A polling GET for a session: held until there is something to send. */
static void eio_polling_get(struct eio_session *s, struct evhttp_request *req)
{
    if (eio_poll_pending(s)) {
        /* One pending GET per session: a second one breaks the protocol. */
        eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
        core_metrics.protocol_errors++;
        eio_session_terminate(s, "transport error");
        return;
    }
    s->poll = req;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req), poll_connection_closed, s);
    if (s->probe_ready)
        eio_polling_noop(s); /* upgrading: the client is pausing its polling */
    else if (s->queue_len && eio_polling_flush(s, 0))
        eio_session_terminate(s, "transport close"); /* it came for its close packet */
}

/* A polling POST's body: 0, or -1 when it was malformed or too large (the
 * session is then closed) with *status the HTTP status to answer. */
static int eio_polling_process(struct eio_session *s, const char *body, size_t len, int *status)
{
    if (len > settings_get()->max_payload) {
        *status = 413;
        core_metrics.protocol_errors++;
        eio_session_terminate(s, "transport error");
        return -1;
    }
    size_t pos = 0;
    const char *p;
    size_t n;
    int bad = len == 0;
    while (!bad && !s->closed && eio_payload_next(body, len, &pos, &p, &n)) {
        if (n && p[0] == 'b') {
            uint8_t *raw = malloc(n / 4 * 3 + 3);
            long rl = raw ? eio_packet_decode_base64(p, n, raw) : -1;
            if (rl < 0)
                bad = 1;
            else
                eio_session_on_packet(s, EIO_MESSAGE, raw, (size_t)rl, 1);
            free(raw);
            continue;
        }
        struct eio_packet pk;
        if (eio_packet_decode_text(p, n, &pk) != 0) {
            bad = 1;
            break;
        }
        eio_session_on_packet(s, pk.type, pk.data, pk.len, 0);
    }
    if (bad) {
        *status = 400;
        core_metrics.protocol_errors++;
        eio_session_terminate(s, "parse error");
        return -1;
    }
    *status = 200;
    return 0;
}

static void polling_post(struct eio_session *s, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    int status;
    const char *body = len && len <= settings_get()->max_payload ? (const char *)evbuffer_pullup(in, -1) : "";
    if (eio_polling_process(s, body, len, &status) != 0) {
        if (status == 413)
            eio_reply_error(req, 413, EIO_ERR_BAD_REQUEST, "Payload too large");
        else
            eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
        return;
    }
    struct evbuffer *ok = evbuffer_new();
    if (ok)
        evbuffer_add(ok, "ok", 2);
    eio_reply_text(req, ok);
    if (ok)
        evbuffer_free(ok);
}

void eio_http_handle(struct evhttp_request *req, void *relay)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method == EVHTTP_REQ_OPTIONS) {
        http_cors_apply(req);
        evhttp_send_reply(req, 204, "No Content", NULL);
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq query;
    TAILQ_INIT(&query);
    if (qs && evhttp_parse_query_str(qs, &query) != 0) {
        evhttp_clear_headers(&query);
        eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
        return;
    }
    const char *eio = evhttp_find_header(&query, "EIO");
    const char *transport = evhttp_find_header(&query, "transport");
    const char *sid = evhttp_find_header(&query, "sid");
    int websocket = transport && strcmp(transport, "websocket") == 0;
    if (!eio || strcmp(eio, "4") != 0) {
        eio_reply_error(req, 400, EIO_ERR_UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version");
    } else if (!transport || (!websocket && strcmp(transport, "polling") != 0)) {
        eio_reply_error(req, 400, EIO_ERR_UNKNOWN_TRANSPORT, "Transport unknown");
    } else if (!sid) {
        handshake(req, websocket);
    } else {
        struct eio_session *s = eio_session_find(sid);
        if (s && eio_session_expired(s))
            s = NULL;
        if (!s) {
            if (!relay || !eio_forward_request(req, sid, websocket))
                eio_reply_unknown_sid(req);
        } else if (websocket) {
            const char *why = NULL;
            const char *key = ws_handshake_check(req, &why);
            if (!key) {
                eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
            } else if (s->transport != EIO_TRANSPORT_POLLING || s->probe || s->closing) {
                /* Already upgraded or upgrading: like the reference server,
                 * complete the WebSocket handshake, then close it. */
                char keycopy[32];
                snprintf(keycopy, sizeof(keycopy), "%s", key);
                struct ws_conn *extra = ws_conn_takeover(req, keycopy, 125, &ignore_callbacks, NULL);
                if (extra)
                    ws_conn_close(extra, WS_CLOSE_NORMAL, NULL);
                else
                    evhttp_send_error(req, 500, NULL);
            } else {
                char keycopy[32];
                snprintf(keycopy, sizeof(keycopy), "%s", key);
                s->probe = ws_conn_takeover(req, keycopy, settings_get()->max_payload, &eio_probe_callbacks, s);
                if (!s->probe)
                    evhttp_send_error(req, 500, NULL);
            }
        } else if (s->transport != EIO_TRANSPORT_POLLING) {
            eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
        } else if (method == EVHTTP_REQ_GET) {
            eio_polling_get(s, req);
        } else if (method == EVHTTP_REQ_POST) {
            polling_post(s, req);
        } else {
            eio_reply_error(req, 400, EIO_ERR_BAD_REQUEST, "Bad request");
        }
    }
    evhttp_clear_headers(&query);
}
