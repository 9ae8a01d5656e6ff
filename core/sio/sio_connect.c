/* The namespace CONNECT and its chain (see sio_connect.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "sio/sio_connect.h"
#include "sio/sio_emit.h"
#include "sio/sio_log.h"
#include "sio/sio_namespace.h"
#include "sio/sio_reap.h"
#include "sio/sio_recover.h"
#include "sio/sio_stream.h"

/* The CONNECT answer's payload: {"sid"}, or {"sid","pid"} with recovery on. */
static int connect_payload(const struct sio_conn *c, char *out, size_t cap)
{
    if (c->stream)
        return snprintf(out, cap, "{\"sid\":\"%s\",\"pid\":\"%s\"}", c->stream->sid, c->stream->pid);
    char sid[SIO_ID_LEN + 1];
    if (sio_id_random(sid) != 0)
        return -1;
    return snprintf(out, cap, "{\"sid\":\"%s\"}", sid);
}

static void connect_answer(struct sio_conn *c, int recovered)
{
    char payload[96];
    int pl = connect_payload(c, payload, sizeof(payload));
    if (pl < 0) {
        sio_conn_close(c, "server error");
        return;
    }
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
     * a namespace they are not connected to yet (a recovered connection's
     * missed events alone come before it, also as the reference server
     * sends them, to a client that asked with its pid).  It goes out in a write of
     * its own (clients that read one message per read need it apart), then
     * what plugins emitted during the chain (the user's own presence, say),
     * then what the SBR_EVENT_CONNECTED hooks emit (`ready`). */
    sio_conn_send_text(c, pk, len);
    free(pk);
    if (c->client->eio)
        eio_session_flush(c->client->eio);
    sio_conn_release_held(c);
    int asked = c->connect && c->connect->recovery_asked;
    sio_connect_state_free(c);
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
    ev.recovered = recovered;
    ev.recovery_asked = asked;
    hooks_notify(SBR_EVENT_CONNECTED, &ev);
}

static void connect_accept(struct sio_conn *c)
{
    if (c->stream)
        sio_recover_accept(c, connect_answer);
    else
        connect_answer(c, 0);
}

static void connect_refuse(struct sio_conn *c, const char *reason)
{
    core_metrics.socketio_connects_refused++;
    sio_log_refused(c, reason);
    sio_send_connect_error(c->client, c->nsp, reason ? reason : "refused");
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

void sio_connect_begin(struct sio_client *cl, struct sio_packet *pk)
{
    const char *nsp = sio_namespace_find(pk->nsp);
    if (!nsp) {
        sio_send_connect_error(cl, pk->nsp, "Invalid namespace");
        return;
    }
    struct sio_conn *c = calloc(1, sizeof(*c));
    struct sio_connect_state *cs = calloc(1, sizeof(*cs));
    if (!c || !cs || sio_stream_open(c) != 0) {
        if (c)
            sio_stream_free(c);
        free(c);
        free(cs);
        sio_send_connect_error(cl, pk->nsp, "server error");
        return;
    }
    if (pk->data) {
        cs->auth_json = json_dumps(pk->data, JSON_COMPACT);
        if (!cs->auth_json) {
            sio_stream_free(c);
            free(c);
            free(cs);
            sio_send_connect_error(cl, pk->nsp, "server error");
            return;
        }
    }
    c->client = cl;
    c->nsp = nsp;
    c->state = SIO_CONN_CONNECTING;
    c->offered = 1;
    c->connect = cs;
    c->client_next = cl->conns;
    cl->conns = c;
    sio_conn_insert(c);
    cs->event.struct_size = sizeof(cs->event);
    cs->event.conn = c->id;
    cs->event.nsp = nsp;
    cs->event.auth_json = cs->auth_json;
    cs->chain.id = SBR_EVENT_CONNECT;
    cs->chain.next = 0;
    cs->chain.event = &cs->event;
    /* A recovery looks its session up first; the chain runs after. */
    if (sio_recover_begin(c, pk->data, connect_run))
        return;
    connect_run(c);
}

int sio_api_connect_resume(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason)
{
    struct sio_conn *c = sio_conn_live(conn);
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
