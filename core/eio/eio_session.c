/* Engine.IO sessions: the sid table, the send queue, heartbeats, close and
 * the deferred free of closed sessions. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "eio/eio_internal.h"
#include "eio/eio_packet.h"
#include "eio/eio_polling.h"
#include "eio/eio_timer.h"
#include "util/base64.h"
#include "ws/ws_conn.h"
#include "ws/ws_frame.h"
#include "util/worker_id.h"

struct eio_server eio_server;
/* Drain: queue for polling sessions without answering their GETs. */
static int eio_polls_held;

static void eio_reap(evutil_socket_t fd, short what, void *arg);
static void session_on_timer(struct eio_session *s);

int eio_sessions_init(struct event_base *base, const struct eio_handler *handler)
{
    eio_server.base = base;
    eio_server.handler = handler;
    eio_server.reap_event = event_new(base, -1, 0, eio_reap, NULL);
    if (eio_timer_init(base, session_on_timer) != 0 || !eio_server.reap_event)
        return -1;
    return 0;
}

struct eio_session *eio_session_find(const char *sid)
{
    struct hashtab_node *n = sid ? hashtab_find(&eio_server.sessions, sid) : NULL;
    return n ? HASHTAB_ENTRY(n, struct eio_session, node) : NULL;
}

/* What the session keeps of the handshake is kept for its whole life, so
 * Engine.IO's own query parameters and the headers that only negotiated the
 * transport are left out: no plugin has a use for them. */
static int meta_skip_query(const char *name)
{
    static const char *const skip[] = {"EIO", "transport", "t", "sid"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

static int meta_skip_header(const char *name)
{
    static const char *const skip[] = {"Connection", "Upgrade", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                                       "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"};
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcasecmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

/* Copy what plugins may ask about the handshake into one block:
 * address, then name/value pairs of the query, then of the headers. */
static int session_copy_meta(struct eio_session *s, struct evhttp_request *req)
{
    struct evkeyvalq query;
    TAILQ_INIT(&query);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
    if (qs && evhttp_parse_query_str(qs, &query) != 0) {
        evhttp_clear_headers(&query);
        TAILQ_INIT(&query);
    }
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon)
        evhttp_connection_get_peer(evcon, &addr, &port);
    size_t total = strlen(addr ? addr : "") + 1;
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, &query, next)
        if (!meta_skip_query(kv->key))
            total += strlen(kv->key) + strlen(kv->value) + 2;
    struct evkeyvalq *headers = evhttp_request_get_input_headers(req);
    TAILQ_FOREACH(kv, headers, next)
        if (!meta_skip_header(kv->key))
            total += strlen(kv->key) + strlen(kv->value) + 2;
    s->meta = malloc(total);
    if (!s->meta) {
        evhttp_clear_headers(&query);
        return -1;
    }
    char *p = s->meta;
    p = stpcpy(p, addr ? addr : "") + 1;
    TAILQ_FOREACH(kv, &query, next) {
        if (meta_skip_query(kv->key) || s->n_query == UINT16_MAX)
            continue;
        p = stpcpy(p, kv->key) + 1;
        p = stpcpy(p, kv->value) + 1;
        s->n_query++;
    }
    TAILQ_FOREACH(kv, headers, next) {
        if (meta_skip_header(kv->key) || s->n_headers == UINT16_MAX)
            continue;
        p = stpcpy(p, kv->key) + 1;
        p = stpcpy(p, kv->value) + 1;
        s->n_headers++;
    }
    evhttp_clear_headers(&query);
    return 0;
}


struct eio_session *eio_session_create(struct evhttp_request *req, int transport)
{
    struct eio_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    uint8_t raw[16];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t r = getrandom(raw + got, sizeof(raw) - got, 0);
        if (r <= 0) {
            free(s);
            return NULL;
        }
        got += (size_t)r;
    }
    memcpy(s->sid, worker_id(), WORKER_ID_LEN);
    base64_encode(raw, sizeof(raw), s->sid + WORKER_ID_LEN, 1);
    s->transport = transport;
    s->node.key = s->sid;
    if (session_copy_meta(s, req) != 0 || hashtab_insert(&eio_server.sessions, &s->node) != 0) {
        free(s->meta);
        free(s);
        return NULL;
    }
    core_metrics.connections_opened++;
    if (log_enabled(LOG_DEBUG_)) {
        const struct log_field f[] = {
            {"sid", s->sid}, {"transport", eio_session_transport(s)}, {"remote", eio_session_remote_addr(s)}};
        log_fields(LOG_DEBUG_, "eio", f, 3, "session opened");
    }
    return s;
}

void eio_session_heartbeat_start(struct eio_session *s)
{
    s->awaiting_pong = 0;
    eio_timer_arm(s, settings_get()->ping_interval_ms);
}

static void send_control(struct eio_session *s, const char *packet)
{
    struct eio_buf *b = eio_buf_new(packet, strlen(packet), 0);
    if (b) {
        eio_session_send(s, b);
        eio_buf_unref(b);
    }
}

static void session_on_timer(struct eio_session *s)
{
    if (s->closed)
        return;
    if (s->closing) {
        /* The client never came back for its close packet. */
        eio_session_terminate(s, "transport close");
        return;
    }
    if (s->awaiting_pong) {
        core_metrics.ping_timeouts++;
        eio_session_terminate(s, "ping timeout");
        return;
    }
    s->awaiting_pong = 1;
    send_control(s, "2");
    eio_timer_arm(s, settings_get()->ping_timeout_ms);
}

int eio_session_expired(struct eio_session *s)
{
    if (s->closed || !s->awaiting_pong || clock_monotonic_ms() < s->deadline)
        return 0;
    core_metrics.ping_timeouts++;
    eio_session_terminate(s, "ping timeout");
    return 1;
}

static void release_frame(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    eio_buf_unref(arg);
}

int eio_session_send(struct eio_session *s, struct eio_buf *b)
{
    if (s->closed || s->closing)
        return -1;
    if (s->transport == EIO_TRANSPORT_WEBSOCKET && s->ws) {
        size_t flen;
        const uint8_t *frame = eio_buf_frame(b, &flen);
        eio_buf_ref(b);
        if (ws_conn_send_ref(s->ws, frame, flen, release_frame, b) != 0) {
            eio_buf_unref(b);
            return -1;
        }
        core_metrics.bytes_out += flen;
        return 0;
    }
    if (eio_polling_push(s, eio_buf_ref(b)) != 0) {
        eio_buf_unref(b);
        return -1;
    }
    if (eio_poll_pending(s) && !s->probe_ready && !eio_polls_held)
        eio_polling_flush(s, 0);
    return 0;
}

void eio_session_flush(struct eio_session *s)
{
    if (!s->closed && s->transport == EIO_TRANSPORT_WEBSOCKET && s->ws)
        ws_conn_flush(s->ws);
}

size_t eio_session_pending(const struct eio_session *s)
{
    size_t n = s->queue_bytes;
    if (s->ws)
        n += ws_conn_pending(s->ws);
    return n;
}

static void send_close_to_poll(struct eio_session *s)
{
    /* Queued directly: the session is already marked closed. */
    if (!s->close_queued)
        eio_polling_queue_close(s);
    eio_polling_flush(s, 1);
}

void eio_session_terminate(struct eio_session *s, const char *reason)
{
    if (s->closed)
        return;
    s->closed = 1;
    eio_timer_cancel(s);
    /* Out of the table at once: a closed session is never found again. */
    hashtab_remove(&eio_server.sessions, &s->node);
    if (s->probe) {
        ws_conn_close(s->probe, WS_CLOSE_NORMAL, NULL);
        s->probe = NULL;
    }
    if (s->ws) {
        ws_conn_close(s->ws, WS_CLOSE_NORMAL, NULL);
        s->ws = NULL;
    }
    if (eio_poll_pending(s)) {
        /* The pending GET learns of the close (the queue goes first). */
        send_close_to_poll(s);
    }
    s->reap_next = eio_server.reap;
    eio_server.reap = s;
    event_active(eio_server.reap_event, EV_TIMEOUT, 1);
    if (eio_server.handler->on_close && s->owner)
        eio_server.handler->on_close(s->owner, reason);
}

void eio_session_close(struct eio_session *s, const char *reason)
{
    if (s->closed || s->closing)
        return;
    if (s->transport != EIO_TRANSPORT_POLLING) {
        eio_session_terminate(s, reason);
        return;
    }
    /* The close packet answers a GET of its own, as the reference server
     * sends it: given it in one answer with the packets ahead of it (a
     * DISCONNECT, say), the stock client acts on the close first (it hands
     * decoded packets over a tick later), takes the ending for a lost
     * transport and reconnects.  So what is queued answers the pending GET
     * alone, and the close waits for the next GET, for at most one ping
     * timeout. */
    if (eio_poll_pending(s) && s->queue_len)
        eio_polling_flush(s, 0);
    if (eio_poll_pending(s)) {
        /* Nothing was queued: the pending GET gets the close packet. */
        eio_session_terminate(s, reason);
        return;
    }
    s->closing = 1;
    if (!s->queue_len)
        eio_polling_queue_close(s);
    eio_timer_arm(s, settings_get()->ping_timeout_ms);
}

static void session_free(struct eio_session *s)
{
    for (size_t i = 0; i < s->queue_len; i++)
        eio_buf_unref(s->queue[i]);
    free(s->queue);
    if (s->poll) {
        evhttp_connection_set_closecb(evhttp_request_get_connection(s->poll), NULL, NULL);
        s->poll = NULL;
    }
    eio_timer_cancel(s);
    free(s->meta);
    free(s);
}

static void eio_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    while (eio_server.reap) {
        struct eio_session *s = eio_server.reap;
        eio_server.reap = s->reap_next;
        session_free(s);
    }
}

void eio_session_on_packet(struct eio_session *s, int type, const uint8_t *data, size_t len, int binary)
{
    if (s->closed)
        return;
    core_metrics.bytes_in += len + 1;
    if (binary) {
        eio_server.handler->on_message(s->owner, 1, data, len);
        return;
    }
    switch (type) {
    case EIO_CLOSE:
        /* The client closes: its pending GET just ends (noop). */
        if (eio_poll_pending(s))
            eio_polling_flush(s, 1);
        eio_session_terminate(s, "transport close");
        break;
    case EIO_PING:
        /* v4 clients do not ping, but answering costs nothing. */
        if (len == 0)
            send_control(s, "3");
        break;
    case EIO_PONG:
        if (s->awaiting_pong)
            eio_session_heartbeat_start(s);
        break;
    case EIO_MESSAGE:
        eio_server.handler->on_message(s->owner, 0, data, len);
        break;
    case EIO_UPGRADE:
    case EIO_NOOP:
        break;
    default:
        core_metrics.protocol_errors++;
        eio_session_terminate(s, "parse error");
        break;
    }
}

const char *eio_session_sid(const struct eio_session *s)
{
    return s->sid;
}

const char *eio_session_remote_addr(const struct eio_session *s)
{
    return s->meta[0] ? s->meta : NULL;
}

const char *eio_session_transport(const struct eio_session *s)
{
    return s->transport == EIO_TRANSPORT_WEBSOCKET ? "websocket" : "polling";
}

/* Walk the meta block: skip the address and `skip` pairs, then search n pairs. */
static const char *meta_lookup(const struct eio_session *s, unsigned skip, unsigned n, const char *name, int nocase)
{
    const char *p = s->meta + strlen(s->meta) + 1;
    for (unsigned i = 0; i < skip; i++) {
        p += strlen(p) + 1;
        p += strlen(p) + 1;
    }
    for (unsigned i = 0; i < n; i++) {
        const char *value = p + strlen(p) + 1;
        if (nocase ? strcasecmp(p, name) == 0 : strcmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

const char *eio_session_query(const struct eio_session *s, const char *name)
{
    return name ? meta_lookup(s, 0, s->n_query, name, 0) : NULL;
}

const char *eio_session_header(const struct eio_session *s, const char *name)
{
    return name ? meta_lookup(s, s->n_query, s->n_headers, name, 1) : NULL;
}

size_t eio_session_count(void)
{
    return eio_server.sessions.count;
}

void eio_server_hold_polls(void)
{
    eio_polls_held = 1;
}

void eio_server_drain(const char *reason, uint64_t polling_grace_ms)
{
    struct hashtab_node *n, *next;
    /* Closing removes a session from the table: take the next one first. */
    for (n = hashtab_next(&eio_server.sessions, NULL); n; n = next) {
        next = hashtab_next(&eio_server.sessions, n);
        struct eio_session *s = HASHTAB_ENTRY(n, struct eio_session, node);
        if (s->transport == EIO_TRANSPORT_POLLING && !eio_poll_pending(s)) {
            /* A polling client between two GETs comes back within a
             * round trip for its queue and close packet; one that does
             * not may never come: it may hold the drain for the grace
             * only, not for a ping timeout. */
            if (!polling_grace_ms) {
                eio_session_terminate(s, reason);
            } else {
                eio_session_close(s, reason);
                eio_timer_arm(s, polling_grace_ms);
            }
        } else {
            eio_session_close(s, reason);
        }
    }
    eio_polls_held = 0;
}

void eio_server_close_all(const char *reason)
{
    eio_server_drain(reason, 0);
}

void eio_sessions_free(void)
{
    eio_reap(-1, 0, NULL);
    struct hashtab_node *n, *next;
    for (n = hashtab_next(&eio_server.sessions, NULL); n; n = next) {
        next = hashtab_next(&eio_server.sessions, n);
        struct eio_session *s = HASHTAB_ENTRY(n, struct eio_session, node);
        if (s->ws)
            ws_conn_close(s->ws, WS_CLOSE_GOING_AWAY, NULL);
        if (s->probe)
            ws_conn_close(s->probe, WS_CLOSE_GOING_AWAY, NULL);
        if (s->poll) {
            evhttp_connection_set_closecb(evhttp_request_get_connection(s->poll), NULL, NULL);
            evhttp_send_error(s->poll, 503, "Service Unavailable");
            s->poll = NULL;
        }
        session_free(s);
    }
    ws_conn_free_all();
    eio_timer_free();
    hashtab_free(&eio_server.sessions);
    if (eio_server.reap_event)
        event_free(eio_server.reap_event);
    memset(&eio_server, 0, sizeof(eio_server));
}
