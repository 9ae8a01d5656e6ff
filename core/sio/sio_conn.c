/* The connection table and the work deferred to the end of the loop turn
 * (see sio_conn.h). */
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "sio/sio_conn.h"

struct sio_deferred sio_deferred;

static struct {
    struct event_base *base;
    struct sio_conn **buckets;
    size_t n_buckets, n_conns;
    sbr_conn_id next_id;
    struct event *reap_event;
} table;

static size_t id_hash(sbr_conn_id id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id;
}

int sio_conn_table_init(struct event_base *base, event_callback_fn reap)
{
    table.base = base;
    table.n_buckets = 1024;
    table.buckets = calloc(table.n_buckets, sizeof(*table.buckets));
    table.reap_event = event_new(base, -1, 0, reap, NULL);
    return table.buckets && table.reap_event ? 0 : -1;
}

void sio_conn_table_free(void)
{
    free(table.buckets);
    if (table.reap_event)
        event_free(table.reap_event);
    memset(&table, 0, sizeof(table));
    memset(&sio_deferred, 0, sizeof(sio_deferred));
}

struct event_base *sio_event_base(void)
{
    return table.base;
}

struct sio_conn *sio_conn_find(sbr_conn_id id)
{
    if (!table.buckets || id == 0)
        return NULL;
    for (struct sio_conn *c = table.buckets[id_hash(id) & (table.n_buckets - 1)]; c; c = c->hash_next)
        if (c->id == id)
            return c;
    return NULL;
}

struct sio_conn *sio_conn_live(sbr_conn_id id)
{
    struct sio_conn *c = sio_conn_find(id);
    return c && c->state != SIO_CONN_CLOSED ? c : NULL;
}

void sio_conn_insert(struct sio_conn *c)
{
    c->id = ++table.next_id;
    if (table.n_conns >= table.n_buckets) {
        size_t n = table.n_buckets * 2;
        struct sio_conn **b = calloc(n, sizeof(*b));
        if (b) {
            for (size_t i = 0; i < table.n_buckets; i++) {
                struct sio_conn *x = table.buckets[i];
                while (x) {
                    struct sio_conn *next = x->hash_next;
                    size_t k = id_hash(x->id) & (n - 1);
                    x->hash_next = b[k];
                    b[k] = x;
                    x = next;
                }
            }
            free(table.buckets);
            table.buckets = b;
            table.n_buckets = n;
        }
    }
    size_t k = id_hash(c->id) & (table.n_buckets - 1);
    c->hash_next = table.buckets[k];
    table.buckets[k] = c;
    table.n_conns++;
}

void sio_conn_remove(struct sio_conn *c)
{
    struct sio_conn **p = &table.buckets[id_hash(c->id) & (table.n_buckets - 1)];
    while (*p && *p != c)
        p = &(*p)->hash_next;
    if (*p) {
        *p = c->hash_next;
        table.n_conns--;
    }
}

struct sio_conn *sio_conn_take_any(void)
{
    for (size_t i = 0; table.buckets && i < table.n_buckets; i++) {
        struct sio_conn *c = table.buckets[i];
        if (c) {
            table.buckets[i] = c->hash_next;
            table.n_conns--;
            return c;
        }
    }
    return NULL;
}

void sio_schedule_reap(void)
{
    if (table.reap_event)
        event_active(table.reap_event, EV_TIMEOUT, 1);
}

void sio_conn_request_disconnect(struct sio_conn *c, const char *reason)
{
    if (c->state == SIO_CONN_CLOSED || c->disconnect_requested)
        return;
    c->disconnect_requested = 1;
    free(c->disconnect_reason);
    c->disconnect_reason = reason ? strdup(reason) : NULL;
    c->disconnect_next = sio_deferred.disconnects;
    sio_deferred.disconnects = c;
    sio_schedule_reap();
}

void sio_client_drop(struct sio_client *cl, const char *reason)
{
    if (cl->closed || !cl->eio || cl->dropping)
        return;
    log_info("sio", "closing session %s: %s", eio_session_sid(cl->eio), reason);
    cl->dropping = 1;
    cl->drop_reason = reason;
    cl->reap_next = sio_deferred.drops;
    sio_deferred.drops = cl;
    sio_schedule_reap();
}

int sio_client_has_live_conns(const struct sio_client *cl)
{
    for (const struct sio_conn *c = cl->conns; c; c = c->client_next)
        if (c->state != SIO_CONN_CLOSED)
            return 1;
    return 0;
}

void sio_client_free(struct sio_client *cl)
{
    struct sio_binary *b = cl->binary;
    if (b) {
        sio_packet_clear(&b->pk);
        for (unsigned i = 0; i < b->n; i++)
            eio_buf_unref(b->att[i]);
        free(b->att);
        free(b);
    }
    if (cl->connect_timer)
        event_free(cl->connect_timer);
    free(cl);
}
