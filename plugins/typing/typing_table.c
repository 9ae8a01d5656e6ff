/* The typings of this worker's connections, by (user, channel). */
#include "typing.h"

#include <stdlib.h>
#include <string.h>

static size_t typing_hash(const char *user_id, const char *channel_id)
{
    /* FNV-1a over "user\0channel". */
    uint64_t h = 1469598103934665603ull;
    for (const char *p = user_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0u) * 1099511628211ull;
    for (const char *p = channel_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % TYPING_BUCKETS);
}

struct typing_entry *typing_table_find(struct typing *t, const char *user_id, const char *channel_id)
{
    for (struct typing_entry *e = t->buckets[typing_hash(user_id, channel_id)]; e; e = e->next)
        if (strcmp(e->user_id, user_id) == 0 && strcmp(e->channel_id, channel_id) == 0)
            return e;
    return NULL;
}

struct typing_entry *typing_table_add(struct typing *t, const char *user_id, const char *channel_id)
{
    if (strlen(channel_id) > CHAT_ID_MAX)
        return NULL;
    struct typing_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->user_id = strdup(user_id);
    if (!e->user_id) {
        free(e);
        return NULL;
    }
    strcpy(e->channel_id, channel_id);
    e->owner = t;
    size_t b = typing_hash(user_id, channel_id);
    e->next = t->buckets[b];
    t->buckets[b] = e;
    return e;
}

static void typing_entry_free(struct typing_entry *e)
{
    free(e->user_id);
    free(e->conns);
    free(e);
}

void typing_table_remove(struct typing *t, struct typing_entry *entry)
{
    for (struct typing_entry **p = &t->buckets[typing_hash(entry->user_id, entry->channel_id)]; *p;
         p = &(*p)->next) {
        if (*p == entry) {
            *p = entry->next;
            typing_entry_free(entry);
            return;
        }
    }
}

int typing_entry_add_conn(struct typing_entry *entry, sbr_conn_id conn)
{
    for (size_t i = 0; i < entry->n_conns; i++)
        if (entry->conns[i] == conn)
            return 0;
    if (entry->n_conns == entry->cap_conns) {
        size_t cap = entry->cap_conns ? entry->cap_conns * 2 : 2;
        sbr_conn_id *grown = realloc(entry->conns, cap * sizeof *grown);
        if (!grown)
            return -1;
        entry->conns = grown;
        entry->cap_conns = cap;
    }
    entry->conns[entry->n_conns++] = conn;
    return 0;
}

int typing_entry_drop_conn(struct typing_entry *entry, sbr_conn_id conn)
{
    for (size_t i = 0; i < entry->n_conns; i++) {
        if (entry->conns[i] == conn) {
            entry->conns[i] = entry->conns[--entry->n_conns];
            return 1;
        }
    }
    return 0;
}

void typing_table_foreach(struct typing *t, void (*fn)(struct typing *t, struct typing_entry *entry, void *arg),
                          void *arg)
{
    for (size_t b = 0; b < TYPING_BUCKETS; b++) {
        struct typing_entry *e = t->buckets[b];
        while (e) {
            struct typing_entry *next = e->next;
            fn(t, e, arg);
            e = next;
        }
    }
}

void typing_table_clear(struct typing *t)
{
    for (size_t b = 0; b < TYPING_BUCKETS; b++) {
        while (t->buckets[b]) {
            struct typing_entry *e = t->buckets[b];
            t->buckets[b] = e->next;
            typing_entry_free(e);
        }
    }
}
