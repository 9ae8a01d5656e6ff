/* Clients: the layer above Engine.IO (see sio_client.h). */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "sio/sio_ack.h"
#include "sio/sio_client.h"
#include "sio/sio_connect.h"
#include "sio/sio_message.h"
#include "sio/sio_rate.h"
#include "sio/sio_reap.h"

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
            sio_connect_begin(cl, pk);
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
        pk.text = NULL; /* the packet outlives the input it came in */
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
    if (!cl->ever_connected && !sio_client_has_live_conns(cl) && cl->eio) {
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
    cl->connect_timer = evtimer_new(sio_event_base(), connect_timeout, cl);
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
    sio_client_closed(owner, reason);
}

const struct eio_handler sio_client_handler = {client_on_open, client_on_message, client_on_close};
