/* The Socket.IO server: clients (one per Engine.IO session), namespace
 * connections with their connect chain, the connection table, deferred
 * close, drain, and the connection services of the host table. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <event2/event.h>
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "eio/eio_session.h"
#include "sio/sio.h"
#include "sio/sio_internal.h"
#include "ws/base64.h"
#include "ws/ws_conn.h"

#define SIO_MAX_NAMESPACES 64

static struct {
    struct event_base *base;
    struct sio_conn **buckets;
    size_t n_buckets, n_conns;
    sbr_conn_id next_id;
    char *namespaces[SIO_MAX_NAMESPACES];
    size_t n_namespaces;
    struct event *reap_event;
    struct sio_conn *reap_conns;
    struct sio_client *reap_clients;
    struct sio_conn *disconnects;   /* linked by disconnect_next until the reap */
    struct sio_client *drops;       /* clients to close, linked by reap_next */
    struct event *drain_timer;
    void (*drain_done)(void);
    uint64_t drain_deadline;
} sio;

/* --- the connection table ------------------------------------------------- */

static size_t id_hash(sbr_conn_id id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id;
}

struct sio_conn *sio_conn_find(sbr_conn_id id)
{
    if (!sio.buckets || id == 0)
        return NULL;
    for (struct sio_conn *c = sio.buckets[id_hash(id) & (sio.n_buckets - 1)]; c; c = c->hash_next)
        if (c->id == id)
            return c;
    return NULL;
}

static void table_insert(struct sio_conn *c)
{
    if (sio.n_conns >= sio.n_buckets) {
        size_t n = sio.n_buckets * 2;
        struct sio_conn **b = calloc(n, sizeof(*b));
        if (b) {
            for (size_t i = 0; i < sio.n_buckets; i++) {
                struct sio_conn *x = sio.buckets[i];
                while (x) {
                    struct sio_conn *next = x->hash_next;
                    size_t k = id_hash(x->id) & (n - 1);
                    x->hash_next = b[k];
                    b[k] = x;
                    x = next;
                }
            }
            free(sio.buckets);
            sio.buckets = b;
            sio.n_buckets = n;
        }
    }
    size_t k = id_hash(c->id) & (sio.n_buckets - 1);
    c->hash_next = sio.buckets[k];
    sio.buckets[k] = c;
    sio.n_conns++;
}

static void table_remove(struct sio_conn *c)
{
    struct sio_conn **p = &sio.buckets[id_hash(c->id) & (sio.n_buckets - 1)];
    while (*p && *p != c)
        p = &(*p)->hash_next;
    if (*p) {
        *p = c->hash_next;
        sio.n_conns--;
    }
}

struct event_base *sio_event_base(void)
{
    return sio.base;
}

/* A live connection for a service call (closed ones are gone for plugins). */
static struct sio_conn *live_conn(sbr_conn_id id)
{
    struct sio_conn *c = sio_conn_find(id);
    return c && c->state != SIO_CONN_CLOSED ? c : NULL;
}

/* --- namespaces ------------------------------------------------------------ */

static const char *namespace_find(const char *nsp)
{
    for (size_t i = 0; i < sio.n_namespaces; i++)
        if (strcmp(sio.namespaces[i], nsp) == 0)
            return sio.namespaces[i];
    return NULL;
}

int sio_api_namespace_add(sbr_plugin *self, const char *nsp)
{
    (void)self;
    if (!nsp || nsp[0] != '/' || strlen(nsp) > SIO_NSP_MAX || strchr(nsp, ','))
        return SBR_ERR_INVALID;
    if (namespace_find(nsp))
        return SBR_OK;
    if (sio.n_namespaces == SIO_MAX_NAMESPACES)
        return SBR_ERR_LIMIT;
    char *copy = strdup(nsp);
    if (!copy)
        return SBR_ERR_NOMEM;
    sio.namespaces[sio.n_namespaces++] = copy;
    return SBR_OK;
}

const char *sio_api_conn_namespace(sbr_conn_id conn)
{
    struct sio_conn *c = live_conn(conn);
    return c ? c->nsp : NULL;
}

/* --- reaping ---------------------------------------------------------------- */

void sio_schedule_reap(void)
{
    if (sio.reap_event)
        event_active(sio.reap_event, EV_TIMEOUT, 1);
}

static void connect_state_free(struct sio_conn *c)
{
    if (!c->connect)
        return;
    free(c->connect->auth_json);
    free(c->connect);
    c->connect = NULL;
}

static void identity_free(sbr_identity *id)
{
    free(id);
}

static void conn_free(struct sio_conn *c)
{
    if (c->disconnect_requested) {
        for (struct sio_conn **p = &sio.disconnects; *p; p = &(*p)->disconnect_next) {
            if (*p == c) {
                *p = c->disconnect_next;
                break;
            }
        }
    }
    sio_acks_discard(c);
    sio_conn_drop_held(c);
    connect_state_free(c);
    identity_free(c->identity);
    free(c->rooms);
    free(c->resume_reason);
    free(c->disconnect_reason);
    free(c);
}

/* A binary packet waiting for its attachments (pk.attachments of them). */
struct sio_binary {
    struct sio_packet pk;
    unsigned n;             /* received so far */
    struct eio_buf **att;
};

static void client_clear_pending(struct sio_client *cl)
{
    struct sio_binary *b = cl->binary;
    if (!b)
        return;
    cl->binary = NULL;
    sio_packet_clear(&b->pk);
    for (unsigned i = 0; i < b->n; i++)
        eio_buf_unref(b->att[i]);
    free(b->att);
    free(b);
}

static void client_free(struct sio_client *cl)
{
    client_clear_pending(cl);
    if (cl->connect_timer)
        event_free(cl->connect_timer);
    free(cl);
}

static void send_disconnect_packet(struct sio_conn *c)
{
    size_t len;
    char *pk = sio_packet_encode(SIO_DISCONNECT, 0, c->nsp, 0, 0, NULL, 0, &len);
    if (pk) {
        sio_conn_send_text(c, pk, len);
        free(pk);
    }
}

static int client_has_live_conns(const struct sio_client *cl)
{
    for (const struct sio_conn *c = cl->conns; c; c = c->client_next)
        if (c->state != SIO_CONN_CLOSED)
            return 1;
    return 0;
}

static void send_connect_error(struct sio_client *cl, const char *nsp, const char *message);

static void sio_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* Requested disconnects first: they may close clients. */
    while (sio.disconnects) {
        struct sio_conn *c = sio.disconnects;
        sio.disconnects = c->disconnect_next;
        c->disconnect_next = NULL;
        c->disconnect_requested = 0;
        if (c->state == SIO_CONN_CLOSED)
            continue;
        struct sio_client *cl = c->client;
        if (c->state == SIO_CONN_CONNECTED)
            send_disconnect_packet(c);
        else
            send_connect_error(cl, c->nsp, c->disconnect_reason ? c->disconnect_reason : "disconnected");
        char *reason = c->disconnect_reason;
        c->disconnect_reason = NULL;
        sio_conn_close(c, reason ? reason : "server namespace disconnect");
        free(reason);
        /* A server-side disconnect of the last namespace ends the session,
         * as the reference server's disconnect(true) does. */
        if (cl->eio && !client_has_live_conns(cl))
            eio_session_close(cl->eio, "server namespace disconnect");
    }
    while (sio.drops) {
        struct sio_client *cl = sio.drops;
        sio.drops = cl->reap_next;
        cl->reap_next = NULL;
        if (cl->eio)
            eio_session_close(cl->eio, cl->drop_reason);
    }
    while (sio.reap_conns) {
        struct sio_conn *c = sio.reap_conns;
        sio.reap_conns = c->reap_next;
        struct sio_client *cl = c->client;
        struct sio_conn **p = &cl->conns;
        while (*p && *p != c)
            p = &(*p)->client_next;
        if (*p)
            *p = c->client_next;
        conn_free(c);
    }
    while (sio.reap_clients) {
        struct sio_client *cl = sio.reap_clients;
        sio.reap_clients = cl->reap_next;
        /* Its connections were closed with it and are freed above. */
        while (cl->conns) {
            struct sio_conn *c = cl->conns;
            cl->conns = c->client_next;
            conn_free(c);
        }
        client_free(cl);
    }
}

void sio_conn_close(struct sio_conn *c, const char *reason)
{
    if (c->state == SIO_CONN_CLOSED)
        return;
    int was_connected = c->state == SIO_CONN_CONNECTED;
    c->state = SIO_CONN_CLOSED;
    /* A refused CONNECT gets its CONNECT_ERROR only. */
    sio_conn_drop_held(c);
    sio_log_closed(c, reason ? reason : "transport close");
    sio_rooms_leave_all(c);
    table_remove(c);
    sio_acks_cancel(c);
    if (c->offered) {
        sbr_event_disconnect ev;
        memset(&ev, 0, sizeof(ev));
        ev.struct_size = sizeof(ev);
        ev.conn = c->id;
        ev.was_connected = was_connected;
        ev.reason = reason ? reason : "transport close";
        hooks_notify(SBR_EVENT_DISCONNECT, &ev);
    }
    if (!c->client->closed) {
        c->reap_next = sio.reap_conns;
        sio.reap_conns = c;
        sio_schedule_reap();
    }
}

void sio_conn_request_disconnect(struct sio_conn *c, const char *reason)
{
    if (c->state == SIO_CONN_CLOSED || c->disconnect_requested)
        return;
    c->disconnect_requested = 1;
    free(c->disconnect_reason);
    c->disconnect_reason = reason ? strdup(reason) : NULL;
    c->disconnect_next = sio.disconnects;
    sio.disconnects = c;
    sio_schedule_reap();
}

void sio_client_drop(struct sio_client *cl, const char *reason)
{
    if (cl->closed || !cl->eio || cl->dropping)
        return;
    log_info("sio", "closing session %s: %s", eio_session_sid(cl->eio), reason);
    cl->dropping = 1;
    cl->drop_reason = reason;
    cl->reap_next = sio.drops;
    sio.drops = cl;
    sio_schedule_reap();
}

/* --- connect ------------------------------------------------------------------ */

static void send_connect_error(struct sio_client *cl, const char *nsp, const char *message)
{
    json_t *o = json_pack("{s:s}", "message", message ? message : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    size_t len;
    char *pk = text ? sio_packet_encode(SIO_CONNECT_ERROR, 0, nsp, 0, 0, text, strlen(text), &len) : NULL;
    if (pk && cl->eio) {
        struct eio_buf *b = eio_buf_alloc(len + 1, 0);
        if (b) {
            char *d = eio_buf_data(b);
            d[0] = '4';
            memcpy(d + 1, pk, len);
            eio_session_send(cl->eio, b);
            eio_buf_unref(b);
        }
    }
    free(pk);
    free(text);
}

static void connect_accept(struct sio_conn *c)
{
    uint8_t raw[16];
    char sid[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        sio_conn_close(c, "server error");
        return;
    }
    base64_encode(raw, sizeof(raw), sid, 1);
    char payload[64];
    int pl = snprintf(payload, sizeof(payload), "{\"sid\":\"%s\"}", sid);
    size_t len;
    char *pk = sio_packet_encode(SIO_CONNECT, 0, c->nsp, 0, 0, payload, (size_t)pl, &len);
    if (!pk) {
        sio_conn_close(c, "server error");
        return;
    }
    c->state = SIO_CONN_CONNECTED;
    sio_log_connected(c);
    /* The answer is the first packet of the namespace, as the reference
     * server sends it: clients other than the JavaScript one drop events of
     * a namespace they are not connected to yet.  It goes out in a write of
     * its own (clients that read one message per read need it apart), then
     * what plugins emitted during the chain (the user's own presence, say),
     * then what the SBR_EVENT_CONNECTED hooks emit (`ready`). */
    sio_conn_send_text(c, pk, len);
    free(pk);
    if (c->client->eio)
        eio_session_flush(c->client->eio);
    sio_conn_release_held(c);
    connect_state_free(c);
    core_metrics.socketio_connects++;
    struct sio_client *cl = c->client;
    cl->ever_connected = 1;
    if (cl->connect_timer) {
        event_free(cl->connect_timer);
        cl->connect_timer = NULL;
    }
    sbr_event_connected ev;
    memset(&ev, 0, sizeof(ev));
    ev.struct_size = sizeof(ev);
    ev.conn = c->id;
    hooks_notify(SBR_EVENT_CONNECTED, &ev);
}

static void connect_refuse(struct sio_conn *c, const char *reason)
{
    core_metrics.socketio_connects_refused++;
    sio_log_refused(c, reason);
    send_connect_error(c->client, c->nsp, reason ? reason : "refused");
    sio_conn_close(c, "connect refused");
}

/* Run (or resume) the connect chain and act on its verdict. */
static void connect_run(struct sio_conn *c)
{
    for (;;) {
        c->in_chain = 1;
        c->resume_set = 0;
        enum sbr_verdict v = hooks_chain_run(&c->connect->chain);
        c->in_chain = 0;
        if (c->state == SIO_CONN_CLOSED)
            return;
        if (v == SBR_PENDING && c->resume_set) {
            /* Resumed from inside its own hook: act now. */
            if (c->resume_verdict == SBR_REFUSE) {
                connect_refuse(c, c->resume_reason);
                return;
            }
            continue;
        }
        if (v == SBR_PENDING)
            return;
        if (v == SBR_REFUSE) {
            char *reason = strdup(c->connect->event.reason ? c->connect->event.reason : "refused");
            connect_refuse(c, reason);
            free(reason);
            return;
        }
        /* SBR_PASS at the end (a CONSUME makes no sense here: accept). */
        connect_accept(c);
        return;
    }
}

static void client_on_connect(struct sio_client *cl, struct sio_packet *pk)
{
    const char *nsp = namespace_find(pk->nsp);
    if (!nsp) {
        send_connect_error(cl, pk->nsp, "Invalid namespace");
        return;
    }
    struct sio_conn *c = calloc(1, sizeof(*c));
    struct sio_connect_state *cs = calloc(1, sizeof(*cs));
    if (!c || !cs) {
        free(c);
        free(cs);
        send_connect_error(cl, pk->nsp, "server error");
        return;
    }
    if (pk->data) {
        cs->auth_json = json_dumps(pk->data, JSON_COMPACT);
        if (!cs->auth_json) {
            free(c);
            free(cs);
            send_connect_error(cl, pk->nsp, "server error");
            return;
        }
    }
    c->id = ++sio.next_id;
    c->client = cl;
    c->nsp = nsp;
    c->state = SIO_CONN_CONNECTING;
    c->offered = 1;
    c->connect = cs;
    c->client_next = cl->conns;
    cl->conns = c;
    table_insert(c);
    cs->event.struct_size = sizeof(cs->event);
    cs->event.conn = c->id;
    cs->event.nsp = nsp;
    cs->event.auth_json = cs->auth_json;
    cs->chain.id = SBR_EVENT_CONNECT;
    cs->chain.next = 0;
    cs->chain.event = &cs->event;
    connect_run(c);
}

int sio_api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason)
{
    struct sio_conn *c = live_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (c->state != SIO_CONN_CONNECTING || !c->connect)
        return SBR_ERR_STATE;
    if (verdict != SBR_PASS && verdict != SBR_REFUSE)
        return SBR_ERR_INVALID;
    if (c->in_chain) {
        c->resume_set = 1;
        c->resume_verdict = verdict;
        free(c->resume_reason);
        c->resume_reason = reason ? strdup(reason) : NULL;
        return SBR_OK;
    }
    if (verdict == SBR_REFUSE) {
        connect_refuse(c, reason);
        return SBR_OK;
    }
    connect_run(c);
    return SBR_OK;
}

/* --- the Engine.IO handler ------------------------------------------------- */

static struct sio_conn *client_conn(struct sio_client *cl, const char *nsp)
{
    for (struct sio_conn *c = cl->conns; c; c = c->client_next)
        if (c->state != SIO_CONN_CLOSED && strcmp(c->nsp, nsp) == 0)
            return c;
    return NULL;
}

static void protocol_error(struct sio_client *cl, const char *why)
{
    core_metrics.protocol_errors++;
    log_debug("sio", "session %s: %s", cl->eio ? eio_session_sid(cl->eio) : "?", why);
    if (cl->eio)
        eio_session_close(cl->eio, "parse error");
}

/* A complete packet (attachments, if any, collected). */
static void client_dispatch(struct sio_client *cl, struct sio_packet *pk, struct eio_buf **att, unsigned n_att)
{
    /* As the reference server does: a packet for a namespace the client
     * is not in, or a second CONNECT to one it is in, ends the session. */
    struct sio_conn *c = client_conn(cl, pk->nsp);
    switch (pk->type) {
    case SIO_CONNECT:
        if (c)
            protocol_error(cl, "CONNECT to a namespace already joined");
        else
            client_on_connect(cl, pk);
        break;
    case SIO_DISCONNECT:
        if (!c)
            protocol_error(cl, "DISCONNECT from a namespace not joined");
        else
            sio_conn_close(c, "client namespace disconnect");
        break;
    case SIO_EVENT:
    case SIO_BINARY_EVENT:
        if (!c) {
            protocol_error(cl, "EVENT on a namespace not joined");
            break;
        }
        if (c->state != SIO_CONN_CONNECTED)
            break; /* its CONNECT is still being decided */
        core_metrics.events_in++;
        if (c->disconnect_requested)
            break; /* the rest of a flood already being disconnected */
        uint64_t retry_after_ms = 0;
        enum sio_rate_verdict rate = sio_rate_check(c, &retry_after_ms);
        if (rate != SIO_RATE_OK) {
            sio_rate_refuse(c, pk, rate, retry_after_ms);
            break;
        }
        sio_message_dispatch(c, pk, att, n_att);
        return; /* attachments were handed over */
    case SIO_ACK:
    case SIO_BINARY_ACK:
        if (!c)
            protocol_error(cl, "ACK on a namespace not joined");
        else if (c->state == SIO_CONN_CONNECTED)
            sio_ack_received(c, pk->id, pk->data); /* unknown ids are ignored */
        break;
    default:
        protocol_error(cl, "unexpected packet type from a client");
        break;
    }
    for (unsigned i = 0; i < n_att; i++)
        eio_buf_unref(att[i]);
    free(att);
}

static void client_on_message(void *owner, int binary, const uint8_t *data, size_t len)
{
    struct sio_client *cl = owner;
    if (cl->closed)
        return;
    if (binary) {
        struct sio_binary *pending = cl->binary;
        if (!pending) {
            protocol_error(cl, "binary data without a binary packet");
            return;
        }
        struct eio_buf *b = eio_buf_new(data, len, 1);
        if (!b) {
            sio_client_drop(cl, "out of memory");
            return;
        }
        pending->att[pending->n++] = b;
        if (pending->n == pending->pk.attachments) {
            cl->binary = NULL;
            client_dispatch(cl, &pending->pk, pending->att, pending->n);
            sio_packet_clear(&pending->pk);
            free(pending);
        }
        return;
    }
    if (cl->binary) {
        protocol_error(cl, "text packet while attachments were expected");
        return;
    }
    struct sio_packet pk;
    if (sio_packet_decode((const char *)data, len, &pk) != 0) {
        protocol_error(cl, "malformed packet");
        return;
    }
    if ((pk.type == SIO_BINARY_EVENT || pk.type == SIO_BINARY_ACK) && pk.attachments > 0) {
        if (pk.attachments > 1000 || !sio_placeholders_valid(pk.data, pk.attachments)) {
            sio_packet_clear(&pk);
            protocol_error(cl, "bad attachments");
            return;
        }
        struct sio_binary *pending = malloc(sizeof(*pending));
        struct eio_buf **att = calloc(pk.attachments, sizeof(*att));
        if (!pending || !att) {
            free(pending);
            free(att);
            sio_packet_clear(&pk);
            sio_client_drop(cl, "out of memory");
            return;
        }
        *pending = (struct sio_binary){.pk = pk, .att = att};
        cl->binary = pending;
        return;
    }
    client_dispatch(cl, &pk, NULL, 0);
    sio_packet_clear(&pk);
}

static void connect_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct sio_client *cl = arg;
    (void)fd;
    (void)what;
    if (!cl->ever_connected && !client_has_live_conns(cl) && cl->eio) {
        log_debug("sio", "session %s: no CONNECT in time", eio_session_sid(cl->eio));
        eio_session_close(cl->eio, "connect timeout");
    }
}

static void *client_on_open(struct eio_session *s)
{
    struct sio_client *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return NULL;
    cl->eio = s;
    cl->connect_timer = evtimer_new(sio.base, connect_timeout, cl);
    if (!cl->connect_timer) {
        free(cl);
        return NULL;
    }
    uint64_t ms = settings_get()->connect_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(cl->connect_timer, &tv);
    return cl;
}

static void client_on_close(void *owner, const char *reason)
{
    struct sio_client *cl = owner;
    cl->eio = NULL;
    if (cl->connect_timer)
        event_del(cl->connect_timer);
    for (struct sio_conn *c = cl->conns; c; c = c->client_next)
        sio_conn_close(c, reason);
    /* The connections above went on the reap list unless closed was set:
     * take them off, the client frees them all. */
    cl->closed = 1;
    struct sio_conn **p = &sio.reap_conns;
    while (*p) {
        if ((*p)->client == cl)
            *p = (*p)->reap_next;
        else
            p = &(*p)->reap_next;
    }
    struct sio_conn **d = &sio.disconnects;
    while (*d) {
        if ((*d)->client == cl)
            *d = (*d)->disconnect_next;
        else
            d = &(*d)->disconnect_next;
    }
    struct sio_client **x = &sio.drops;
    while (*x) {
        if (*x == cl)
            *x = cl->reap_next;
        else
            x = &(*x)->reap_next;
    }
    cl->reap_next = sio.reap_clients;
    sio.reap_clients = cl;
    sio_schedule_reap();
}

static const struct eio_handler sio_eio_handler = {client_on_open, client_on_message, client_on_close};

/* --- server ------------------------------------------------------------------ */

int sio_server_init(struct event_base *base)
{
    sio.base = base;
    sio.n_buckets = 1024;
    sio.buckets = calloc(sio.n_buckets, sizeof(*sio.buckets));
    sio.reap_event = event_new(base, -1, 0, sio_reap, NULL);
    if (!sio.buckets || !sio.reap_event)
        return -1;
    if (!namespace_find("/") && sio_api_namespace_add(NULL, "/") != SBR_OK)
        return -1;
    return eio_server_init(base, &sio_eio_handler);
}

void sio_server_reload(void)
{
    /* Every setting is read where it is used (heartbeat, caps, rate), so
     * new values apply to the next use; nothing to rebuild. */
}

size_t sio_connection_count(void)
{
    return eio_session_count();
}

void sio_http_handle(struct evhttp_request *req)
{
    eio_http_handle(req);
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if ((eio_session_count() == 0 && ws_conn_count() == 0) || clock_monotonic_ms() >= sio.drain_deadline) {
        event_del(sio.drain_timer);
        void (*done)(void) = sio.drain_done;
        sio.drain_done = NULL;
        if (done)
            done();
    }
}

/* How long a drain waits for a polling client with no GET in flight to
 * come back for its DISCONNECT: it re-polls as soon as its previous GET
 * was answered, so a second is many round trips. */
#define SIO_DRAIN_POLL_GRACE_MS 1000

void sio_server_drain(void (*done)(void))
{
    /* As the reference server's close(): the Engine.IO transport of every
     * session closes (a WebSocket close frame, the close packet for a
     * polling client), with no Socket.IO DISCONNECT, so the client sees
     * "transport close" and reconnects by itself, to another worker when
     * one is up.  A polling GET held now gets its queue and the close
     * packet at once. */
    eio_server_hold_polls();
    uint64_t timeout = settings_get()->shutdown_timeout_ms;
    eio_server_drain("server shutting down", timeout < SIO_DRAIN_POLL_GRACE_MS ? timeout : SIO_DRAIN_POLL_GRACE_MS);
    sio.drain_done = done;
    sio.drain_deadline = clock_monotonic_ms() + timeout;
    if (!sio.drain_timer)
        sio.drain_timer = event_new(sio.base, -1, EV_PERSIST, drain_check, NULL);
    if (!sio.drain_timer) {
        if (done)
            done();
        return;
    }
    struct timeval tv = {0, 20 * 1000};
    event_add(sio.drain_timer, &tv);
}

void sio_server_free(void)
{
    /* Sessions still open (the drain timed out, or polling clients never
     * came back) close now, so that their clients are reaped below. */
    if (sio.buckets)
        eio_server_close_all("server shutting down");
    sio_reap(-1, 0, NULL);
    sio_messages_free();
    /* Sessions go without callbacks; their clients and connections here. */
    for (size_t i = 0; sio.buckets && i < sio.n_buckets; i++) {
        while (sio.buckets[i]) {
            struct sio_conn *c = sio.buckets[i];
            sio.buckets[i] = c->hash_next;
            c->state = SIO_CONN_CLOSED;
            sio_rooms_leave_all(c);
            struct sio_client *cl = c->client;
            /* Free each client once, with its last connection. */
            struct sio_conn **p = &cl->conns;
            while (*p && *p != c)
                p = &(*p)->client_next;
            if (*p)
                *p = c->client_next;
            conn_free(c);
            if (!cl->conns) {
                cl->reap_next = sio.reap_clients;
                sio.reap_clients = cl;
            }
        }
    }
    sio_reap(-1, 0, NULL);
    eio_server_free();
    sio_rooms_free();
    free(sio.buckets);
    for (size_t i = 0; i < sio.n_namespaces; i++)
        free(sio.namespaces[i]);
    if (sio.reap_event)
        event_free(sio.reap_event);
    if (sio.drain_timer)
        event_free(sio.drain_timer);
    memset(&sio, 0, sizeof(sio));
}

/* --- connection services ------------------------------------------------------ */

int sio_api_conn_alive(sbr_conn_id conn)
{
    return live_conn(conn) != NULL;
}

const char *sio_api_conn_query(sbr_conn_id conn, const char *name)
{
    struct sio_conn *c = live_conn(conn);
    return c && c->client->eio ? eio_session_query(c->client->eio, name) : NULL;
}

const char *sio_api_conn_header(sbr_conn_id conn, const char *name)
{
    struct sio_conn *c = live_conn(conn);
    return c && c->client->eio ? eio_session_header(c->client->eio, name) : NULL;
}

const char *sio_api_conn_remote_addr(sbr_conn_id conn)
{
    struct sio_conn *c = live_conn(conn);
    return c && c->client->eio ? eio_session_remote_addr(c->client->eio) : NULL;
}

/* One allocation: the struct, the pointer arrays, then the strings. */
static sbr_identity *identity_copy(const sbr_identity *in)
{
    size_t total = sizeof(sbr_identity);
    total += (in->n_servers + in->n_moderates) * sizeof(char *);
    total += strlen(in->user_id) + 1 + (in->session_id ? strlen(in->session_id) + 1 : 0);
    for (size_t i = 0; i < in->n_servers; i++)
        total += strlen(in->servers[i]) + 1;
    for (size_t i = 0; i < in->n_moderates; i++)
        total += strlen(in->moderates[i]) + 1;
    char *mem = calloc(1, total);
    if (!mem)
        return NULL;
    sbr_identity *out = (sbr_identity *)mem;
    const char **servers = (const char **)(mem + sizeof(*out));
    const char **moderates = servers + in->n_servers;
    char *p = (char *)(moderates + in->n_moderates);
    out->struct_size = sizeof(*out);
    out->user_id = p;
    p = stpcpy(p, in->user_id) + 1;
    if (in->session_id) {
        out->session_id = p;
        p = stpcpy(p, in->session_id) + 1;
    }
    for (size_t i = 0; i < in->n_servers; i++) {
        servers[i] = p;
        p = stpcpy(p, in->servers[i]) + 1;
    }
    for (size_t i = 0; i < in->n_moderates; i++) {
        moderates[i] = p;
        p = stpcpy(p, in->moderates[i]) + 1;
    }
    out->servers = in->n_servers ? servers : NULL;
    out->n_servers = in->n_servers;
    out->moderates = in->n_moderates ? moderates : NULL;
    out->n_moderates = in->n_moderates;
    out->expires_at = in->expires_at;
    return out;
}

int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity)
{
    if (!identity || !identity->user_id || (identity->n_servers && !identity->servers) ||
        (identity->n_moderates && !identity->moderates))
        return SBR_ERR_INVALID;
    for (size_t i = 0; i < identity->n_servers; i++)
        if (!identity->servers[i])
            return SBR_ERR_INVALID;
    for (size_t i = 0; i < identity->n_moderates; i++)
        if (!identity->moderates[i])
            return SBR_ERR_INVALID;
    struct sio_conn *c = live_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    sbr_identity *copy = identity_copy(identity);
    if (!copy)
        return SBR_ERR_NOMEM;
    identity_free(c->identity);
    c->identity = copy;
    return SBR_OK;
}

const sbr_identity *sio_api_conn_identity(sbr_conn_id conn)
{
    struct sio_conn *c = live_conn(conn);
    return c ? c->identity : NULL;
}

int sio_reason_code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

void sio_conn_end(struct sio_conn *c, const char *code)
{
    if (c->state == SIO_CONN_CONNECTED && !c->disconnect_requested) {
        char payload[96];
        int n = snprintf(payload, sizeof(payload), "{\"reason\":\"%s\"}", code);
        struct eio_buf *b = sio_encode_packet(SIO_EVENT, 0, c->nsp, 0, 0, "disconnect_reason", payload, (size_t)n);
        if (b) {
            sio_conn_send(c, b, 0);
            eio_buf_unref(b);
        }
    }
    sio_conn_request_disconnect(c, code);
}

int sio_api_conn_end(sbr_conn_id conn, const char *code)
{
    if (!sio_reason_code_valid(code))
        return SBR_ERR_INVALID;
    struct sio_conn *c = live_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    log_info("sio", "connection %llu ended: %s", (unsigned long long)conn, code);
    sio_conn_end(c, code);
    return SBR_OK;
}

int sio_api_conn_disconnect(sbr_conn_id conn, const char *reason)
{
    struct sio_conn *c = live_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (reason)
        log_info("sio", "connection %llu disconnected: %s", (unsigned long long)conn, reason);
    sio_conn_request_disconnect(c, reason);
    return SBR_OK;
}
