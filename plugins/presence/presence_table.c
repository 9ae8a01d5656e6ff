/* This worker's connections of identified users, by connection id and by
 * user. */
#include "presence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t presence_bucket(sbr_conn_id conn)
{
    return (size_t)((conn * 11400714819323198485ull) >> 52) % PRESENCE_BUCKETS;
}

static size_t presence_user_bucket(const char *user_id)
{
    /* FNV-1a */
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c = (const unsigned char *)user_id; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return (size_t)(h % PRESENCE_BUCKETS);
}

struct presence_conn *presence_table_find(struct presence *p, sbr_conn_id conn)
{
    for (struct presence_conn *r = p->buckets[presence_bucket(conn)]; r; r = r->next)
        if (r->conn == conn)
            return r;
    return NULL;
}

void presence_conn_free(struct presence_conn *rec)
{
    if (!rec)
        return;
    for (size_t i = 0; i < rec->n_servers; i++)
        free(rec->servers[i]);
    free(rec->servers);
    free(rec->user_id);
    free(rec);
}

int presence_conn_set_servers(struct presence_conn *rec, const sbr_identity *who)
{
    char **servers = who->n_servers ? calloc(who->n_servers, sizeof *servers) : NULL;
    size_t n = 0;
    if (who->n_servers && !servers)
        return -1;
    for (size_t i = 0; i < who->n_servers; i++) {
        /* Server ids end up in room and key names: keep the valid ones. */
        if (!who->servers[i] || !chat_id_valid(who->servers[i], CHAT_ID_SERVER_OR_USER))
            continue;
        if (!(servers[n] = strdup(who->servers[i]))) {
            while (n)
                free(servers[--n]);
            free(servers);
            return -1;
        }
        n++;
    }
    for (size_t i = 0; i < rec->n_servers; i++)
        free(rec->servers[i]);
    free(rec->servers);
    rec->servers = servers;
    rec->n_servers = n;
    return 0;
}

struct presence_conn *presence_table_add(struct presence *p, sbr_conn_id conn, const sbr_identity *who)
{
    struct presence_conn *rec = calloc(1, sizeof *rec);
    if (!rec)
        return NULL;
    rec->conn = conn;
    rec->user_id = strdup(who->user_id);
    if (!rec->user_id || presence_conn_set_servers(rec, who) != 0) {
        presence_conn_free(rec);
        return NULL;
    }
    strcpy(rec->status, "online");
    snprintf(rec->field, sizeof rec->field, "%s:%" PRIu64, p->worker, (uint64_t)conn);
    size_t b = presence_bucket(conn);
    rec->next = p->buckets[b];
    p->buckets[b] = rec;
    size_t u = presence_user_bucket(rec->user_id);
    rec->user_next = p->users[u];
    p->users[u] = rec;
    p->count++;
    return rec;
}

void presence_table_unlink(struct presence *p, struct presence_conn *rec)
{
    for (struct presence_conn **r = &p->users[presence_user_bucket(rec->user_id)]; *r; r = &(*r)->user_next) {
        if (*r == rec) {
            *r = rec->user_next;
            rec->user_next = NULL;
            break;
        }
    }
    for (struct presence_conn **r = &p->buckets[presence_bucket(rec->conn)]; *r; r = &(*r)->next) {
        if (*r == rec) {
            *r = rec->next;
            rec->next = NULL;
            p->count--;
            return;
        }
    }
}

void presence_table_foreach_user(struct presence *p, const char *user_id,
                                 void (*fn)(struct presence *p, struct presence_conn *rec, void *arg), void *arg)
{
    for (struct presence_conn *r = p->users[presence_user_bucket(user_id)]; r; r = r->user_next)
        if (strcmp(r->user_id, user_id) == 0)
            fn(p, r, arg);
}

void presence_table_foreach(struct presence *p, void (*fn)(struct presence *p, struct presence_conn *rec, void *arg),
                            void *arg)
{
    for (size_t b = 0; b < PRESENCE_BUCKETS; b++)
        for (struct presence_conn *r = p->buckets[b]; r; r = r->next)
            fn(p, r, arg);
}

void presence_table_clear(struct presence *p)
{
    for (size_t b = 0; b < PRESENCE_BUCKETS; b++) {
        while (p->buckets[b]) {
            struct presence_conn *r = p->buckets[b];
            p->buckets[b] = r->next;
            presence_conn_free(r);
        }
        p->users[b] = NULL;
    }
    p->count = 0;
}
