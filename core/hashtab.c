/* See hashtab.h. */
#include "hashtab.h"

#include <stdlib.h>
#include <string.h>

size_t hashtab_hash(const char *key)
{
    size_t h = (size_t)1469598103934665603ull;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * (size_t)1099511628211ull;
    return h;
}

struct hashtab_node *hashtab_find(const struct hashtab *t, const char *key)
{
    if (!t->n_buckets)
        return NULL;
    size_t h = hashtab_hash(key);
    for (struct hashtab_node *n = t->buckets[h & (t->n_buckets - 1)]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static int hashtab_grow(struct hashtab *t)
{
    size_t size = t->n_buckets ? t->n_buckets * 2 : 64;
    struct hashtab_node **b = calloc(size, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct hashtab_node *n = t->buckets[i];
        while (n) {
            struct hashtab_node *next = n->next;
            n->next = b[n->hash & (size - 1)];
            b[n->hash & (size - 1)] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = size;
    return 0;
}

int hashtab_insert(struct hashtab *t, struct hashtab_node *node)
{
    /* Growing is optional once there are buckets: longer chains stay correct. */
    if (t->count >= t->n_buckets && hashtab_grow(t) != 0 && !t->n_buckets)
        return -1;
    node->hash = hashtab_hash(node->key);
    struct hashtab_node **head = &t->buckets[node->hash & (t->n_buckets - 1)];
    node->next = *head;
    *head = node;
    t->count++;
    return 0;
}

void hashtab_remove(struct hashtab *t, struct hashtab_node *node)
{
    for (struct hashtab_node **pp = &t->buckets[node->hash & (t->n_buckets - 1)]; *pp; pp = &(*pp)->next) {
        if (*pp == node) {
            *pp = node->next;
            t->count--;
            return;
        }
    }
}

struct hashtab_node *hashtab_next(const struct hashtab *t, const struct hashtab_node *node)
{
    size_t i = 0;
    if (node) {
        if (node->next)
            return node->next;
        i = (node->hash & (t->n_buckets - 1)) + 1;
    }
    for (; i < t->n_buckets; i++)
        if (t->buckets[i])
            return t->buckets[i];
    return NULL;
}

void hashtab_free(struct hashtab *t)
{
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}
