/* The channels each local connection joined (see channel_joins.h). */
#include "channel_joins.h"

#include <stdlib.h>
#include <string.h>

static size_t channel_joins_bucket(sbr_conn_id conn)
{
    return (size_t)((conn * 11400714819323198485ull) >> 52) % CHANNEL_JOINS_BUCKETS;
}

static struct channel_joins_conn **channel_joins_slot(struct channel_joins *j, sbr_conn_id conn)
{
    struct channel_joins_conn **at = &j->buckets[channel_joins_bucket(conn)];
    while (*at && (*at)->conn != conn)
        at = &(*at)->next;
    return at;
}

static void channel_join_free(struct channel_join *join)
{
    free(join->channel_id);
    free(join->server_id);
}

/* Drop joins[i] (order does not matter). */
static void channel_joins_drop(struct channel_joins_conn *c, size_t i)
{
    channel_join_free(&c->joins[i]);
    c->joins[i] = c->joins[--c->n];
}

static void channel_joins_conn_free(struct channel_joins_conn *c)
{
    while (c->n)
        channel_joins_drop(c, c->n - 1);
    free(c->joins);
    free(c);
}

/* Unlink and free the record at *at when it has nothing left. */
static void channel_joins_tidy(struct channel_joins_conn **at)
{
    struct channel_joins_conn *c = *at;
    if (c && c->n == 0) {
        *at = c->next;
        channel_joins_conn_free(c);
    }
}

int channel_joins_add(struct channel_joins *j, sbr_conn_id conn, const char *channel_id, const char *server_id)
{
    struct channel_joins_conn **at = channel_joins_slot(j, conn);
    if (!*at && !(*at = calloc(1, sizeof **at)))
        return -1;
    struct channel_joins_conn *c = *at;
    c->conn = conn;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->joins[i].channel_id, channel_id) == 0)
            channel_joins_drop(c, i); /* joined again: the server may have changed */
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct channel_join *grown = realloc(c->joins, cap * sizeof *grown);
        if (!grown) {
            channel_joins_tidy(at);
            return -1;
        }
        c->joins = grown;
        c->cap = cap;
    }
    struct channel_join join = {strdup(channel_id), strdup(server_id)};
    if (!join.channel_id || !join.server_id) {
        channel_join_free(&join);
        channel_joins_tidy(at);
        return -1;
    }
    c->joins[c->n++] = join;
    return 0;
}

void channel_joins_remove(struct channel_joins *j, sbr_conn_id conn, const char *channel_id)
{
    struct channel_joins_conn **at = channel_joins_slot(j, conn);
    for (size_t i = 0; *at && i < (*at)->n; i++)
        if (strcmp((*at)->joins[i].channel_id, channel_id) == 0) {
            channel_joins_drop(*at, i);
            break;
        }
    channel_joins_tidy(at);
}

void channel_joins_forget(struct channel_joins *j, sbr_conn_id conn)
{
    struct channel_joins_conn **at = channel_joins_slot(j, conn);
    if (*at) {
        struct channel_joins_conn *c = *at;
        *at = c->next;
        channel_joins_conn_free(c);
    }
}

size_t channel_joins_take_server(struct channel_joins *j, sbr_conn_id conn, const char *server_id,
                                 void (*fn)(sbr_conn_id conn, const char *channel_id, void *arg), void *arg)
{
    struct channel_joins_conn **at = channel_joins_slot(j, conn);
    size_t taken = 0;
    for (size_t i = 0; *at && i < (*at)->n;) {
        if (strcmp((*at)->joins[i].server_id, server_id) != 0) {
            i++;
            continue;
        }
        fn(conn, (*at)->joins[i].channel_id, arg);
        channel_joins_drop(*at, i);
        taken++;
    }
    channel_joins_tidy(at);
    return taken;
}

void channel_joins_clear(struct channel_joins *j)
{
    for (size_t b = 0; b < CHANNEL_JOINS_BUCKETS; b++) {
        while (j->buckets[b]) {
            struct channel_joins_conn *c = j->buckets[b];
            j->buckets[b] = c->next;
            channel_joins_conn_free(c);
        }
    }
}
