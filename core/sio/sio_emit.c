/* Encoding events and acks into shared Engine.IO packets, and queueing them
 * to a connection under the outbound cap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "eio/eio_session.h"
#include "sio/sio_emit.h"
#include "util/json_text.h"

/* v in decimal at p; the digits written. */
static size_t put_decimal(char *p, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = digits[n - 1 - i];
    return n;
}

/* "4<type>[<attachments>-][<nsp>,][<id>]" into head; its length. */
static size_t packet_head(char *head, int type, unsigned attachments, const char *nsp, int has_id, uint64_t id)
{
    size_t n = 0;
    head[n++] = '4';
    head[n++] = (char)('0' + type);
    if (attachments) {
        n += put_decimal(head + n, attachments);
        head[n++] = '-';
    }
    if (nsp && strcmp(nsp, "/") != 0) {
        size_t len = strnlen(nsp, SIO_NSP_MAX);
        memcpy(head + n, nsp, len);
        n += len;
        head[n++] = ',';
    }
    if (has_id)
        n += put_decimal(head + n, id);
    return n;
}

struct eio_buf *sio_encode_packet(int type, unsigned attachments, const char *nsp, int has_id, uint64_t id,
                                  const char *event, const char *rest, size_t rest_len)
{
    size_t event_len = event ? strlen(event) : 0;
    size_t name_len = event ? json_text_quoted_len(event, event_len) : 0;
    if (event && !name_len)
        return NULL; /* not UTF-8 */
    char head[SIO_NSP_MAX + 64];
    size_t hl = packet_head(head, type, attachments, nsp, has_id, id);
    if (!rest)
        rest_len = 0;
    size_t total = hl + 1 + name_len + (event && rest_len ? 1 : 0) + rest_len + 1;
    struct eio_buf *b = eio_buf_alloc(total, 0);
    if (!b)
        return NULL;
    char *p = eio_buf_data(b);
    memcpy(p, head, hl);
    p += hl;
    *p++ = '[';
    if (event) {
        p += json_text_quote(event, event_len, p);
        if (rest_len)
            *p++ = ',';
    }
    if (rest_len) {
        memcpy(p, rest, rest_len);
        p += rest_len;
    }
    *p = ']';
    return b;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int sio_args_inner(const char *args_json, const char **inner, size_t *inner_len)
{
    const char *p = args_json;
    size_t n = strlen(p);
    /* \u0000 in a string is valid JSON: a plugin echoing a client's
     * arguments back must not be refused. */
    if (!json_text_valid(p, n))
        return -1;
    while (n && is_blank(*p)) {
        p++;
        n--;
    }
    while (n && is_blank(p[n - 1]))
        n--;
    if (p[0] != '[')
        return -1;
    /* A valid array: p[0] is '[' and p[n - 1] is ']'. */
    p++;
    n -= 2;
    while (n && is_blank(*p)) {
        p++;
        n--;
    }
    *inner = p;
    *inner_len = n;
    return 0;
}

int sio_json_valid(const char *json)
{
    return json_text_valid(json, strlen(json));
}

/* Hold a packet for a connection whose CONNECT is pending. */
static int conn_hold(struct sio_conn *c, struct eio_buf *b)
{
    if (c->n_held == c->cap_held) {
        size_t cap = c->cap_held ? c->cap_held * 2 : 4;
        struct eio_buf **h = realloc(c->held, cap * sizeof(*h));
        if (!h)
            return -1;
        c->held = h;
        c->cap_held = cap;
    }
    c->held[c->n_held++] = eio_buf_ref(b);
    c->held_bytes += b->len + 1;
    return 0;
}

void sio_conn_release_held(struct sio_conn *c)
{
    struct eio_session *s = c->client->eio;
    for (size_t i = 0; i < c->n_held; i++) {
        if (s && eio_session_send(s, c->held[i]) == 0)
            core_metrics.events_out++;
        eio_buf_unref(c->held[i]);
    }
    free(c->held);
    c->held = NULL;
    c->n_held = c->cap_held = c->held_bytes = 0;
}

void sio_conn_drop_held(struct sio_conn *c)
{
    for (size_t i = 0; i < c->n_held; i++)
        eio_buf_unref(c->held[i]);
    free(c->held);
    c->held = NULL;
    c->n_held = c->cap_held = c->held_bytes = 0;
}

int sio_conn_send(struct sio_conn *c, struct eio_buf *b, unsigned flags)
{
    struct eio_session *s = c->client->eio;
    if (!s || c->state == SIO_CONN_CLOSED)
        return SBR_ERR_GONE;
    if (c->client->dropping)
        return SBR_ERR_LIMIT;
    const struct core_settings *st = settings_get();
    /* Held packets count against the cap: they are output already promised. */
    if ((flags & SBR_EMIT_VOLATILE) && st->outbound_buffer_max &&
        eio_session_pending(s) + c->held_bytes > st->outbound_buffer_max / 2) {
        core_metrics.volatile_dropped++;
        return SBR_OK;
    }
    if (c->state == SIO_CONN_CONNECTING) {
        if (conn_hold(c, b) != 0)
            return SBR_ERR_NOMEM;
    } else {
        if (eio_session_send(s, b) != 0)
            return SBR_ERR_GONE;
        core_metrics.events_out++;
    }
    size_t pending = eio_session_pending(s) + c->held_bytes;
    if (st->outbound_buffer_max && pending > st->outbound_buffer_max) {
        core_metrics.slow_consumer_disconnects++;
        log_warn("sio", "session %s: slow consumer, %zu bytes queued past the cap of %llu: disconnecting",
                 eio_session_sid(s), pending, (unsigned long long)st->outbound_buffer_max);
        sio_client_drop(c->client, "slow consumer");
        return SBR_ERR_LIMIT;
    }
    return SBR_OK;
}

int sio_conn_send_text(struct sio_conn *c, const char *sio_packet, size_t len)
{
    struct eio_buf *b = eio_buf_alloc(len + 1, 0);
    if (!b)
        return SBR_ERR_NOMEM;
    char *d = eio_buf_data(b);
    d[0] = '4';
    memcpy(d + 1, sio_packet, len);
    int r = sio_conn_send(c, b, 0);
    eio_buf_unref(b);
    return r;
}

int sio_api_emit(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags)
{
    if (!event || (data_json && !sio_json_valid(data_json)))
        return SBR_ERR_INVALID;
    struct sio_conn *c = sio_conn_find(conn);
    if (!c || c->state == SIO_CONN_CLOSED)
        return SBR_ERR_GONE;
    struct eio_buf *b = sio_encode_packet(SIO_EVENT, 0, c->nsp, 0, 0, event, data_json,
                                          data_json ? strlen(data_json) : 0);
    if (!b)
        return SBR_ERR_INVALID;
    int r = sio_conn_send(c, b, flags);
    eio_buf_unref(b);
    return r;
}

void sio_send_connect_error(struct sio_client *cl, const char *nsp, const char *message)
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

void sio_send_disconnect(struct sio_conn *c)
{
    size_t len;
    char *pk = sio_packet_encode(SIO_DISCONNECT, 0, c->nsp, 0, 0, NULL, 0, &len);
    if (pk) {
        sio_conn_send_text(c, pk, len);
        free(pk);
    }
}
