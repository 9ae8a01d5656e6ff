/* Acknowledgements the server asks of clients (api->emit_with_ack): the
 * event goes out as 2<id>[...], the client answers 3<id>[...], and the
 * plugin's callback runs once: with the answer, or NULL on timeout or when
 * the connection goes away. */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include "sio/sio_ack.h"
#include "sio/sio_emit.h"

struct sio_ack {
    struct sio_ack *next;
    struct sio_conn *conn;
    uint64_t id;
    struct event *timer;
    void (*fn)(sbr_conn_id conn, const char *args_json, void *userdata);
    void *userdata;
};

static void ack_unlink(struct sio_ack *a)
{
    for (struct sio_ack **p = &a->conn->acks; *p; p = &(*p)->next) {
        if (*p == a) {
            *p = a->next;
            return;
        }
    }
}

/* Unlink first, then call: the callback may emit again on the same conn. */
static void ack_finish(struct sio_ack *a, const char *args_json)
{
    ack_unlink(a);
    if (a->timer)
        event_free(a->timer);
    sbr_conn_id id = a->conn->id;
    void (*fn)(sbr_conn_id, const char *, void *) = a->fn;
    void *ud = a->userdata;
    free(a);
    fn(id, args_json, ud);
}

static void ack_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ack_finish(arg, NULL);
}

void sio_ack_received(struct sio_conn *c, uint64_t id, json_t *args)
{
    for (struct sio_ack *a = c->acks; a; a = a->next) {
        if (a->id != id)
            continue;
        char *text = json_dumps(args, JSON_COMPACT);
        ack_finish(a, text ? text : "[]");
        free(text);
        return;
    }
}

void sio_acks_cancel(struct sio_conn *c)
{
    while (c->acks)
        ack_finish(c->acks, NULL);
}

int sio_api_emit_with_ack(sbr_conn_id conn, const char *event, const char *data_json, uint64_t timeout_ms,
                          void (*fn)(sbr_conn_id conn, const char *args_json, void *userdata), void *userdata)
{
    if (!event || !fn || (data_json && !sio_json_valid(data_json)))
        return SBR_ERR_INVALID;
    struct sio_conn *c = sio_conn_find(conn);
    if (!c || c->state == SIO_CONN_CLOSED)
        return SBR_ERR_GONE;
    struct sio_ack *a = calloc(1, sizeof(*a));
    if (!a)
        return SBR_ERR_NOMEM;
    if (timeout_ms) {
        a->timer = evtimer_new(sio_event_base(), ack_timeout, a);
        if (!a->timer) {
            free(a);
            return SBR_ERR_NOMEM;
        }
    }
    a->conn = c;
    a->id = c->next_ack_id++;
    a->fn = fn;
    a->userdata = userdata;
    struct eio_buf *b = sio_encode_packet(SIO_EVENT, 0, c->nsp, 1, a->id, event, data_json,
                                          data_json ? strlen(data_json) : 0);
    int r = b ? sio_conn_send(c, b, 0) : SBR_ERR_INVALID;
    if (b)
        eio_buf_unref(b);
    if (r != SBR_OK) {
        if (a->timer)
            event_free(a->timer);
        free(a);
        return r;
    }
    a->next = c->acks;
    c->acks = a;
    if (a->timer) {
        struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)((timeout_ms % 1000) * 1000)};
        evtimer_add(a->timer, &tv);
    }
    return SBR_OK;
}

void sio_acks_discard(struct sio_conn *c)
{
    while (c->acks) {
        struct sio_ack *a = c->acks;
        c->acks = a->next;
        if (a->timer)
            event_free(a->timer);
        free(a);
    }
}
