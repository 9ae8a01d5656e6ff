/* Chained hash table; the bucket array doubles at load factor 1 and halves
 * when a quarter full, so memory follows the live set. */
#include "strtab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct strtab_node {
    struct strtab_node *next;
    uint64_t hash;
    const char *key;
    void *value;
};

struct strtab {
    struct strtab_node **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    uint64_t seed;
};

#define STRTAB_MIN_BUCKETS 16

/* FNV-1a from a random basis, then a 64-bit finaliser so the low bits used
 * to pick a bucket depend on every input byte. */
static uint64_t strtab_hash(uint64_t seed, const char *key)
{
    uint64_t h = seed ^ 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

strtab *strtab_new(void)
{
    strtab *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->buckets = calloc(STRTAB_MIN_BUCKETS, sizeof(*t->buckets));
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    t->nbuckets = STRTAB_MIN_BUCKETS;
    if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != (ssize_t)sizeof(t->seed))
        t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
    return t;
}

void strtab_free(strtab *t, void (*free_value)(void *value))
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct strtab_node *n = t->buckets[i];
        while (n) {
            struct strtab_node *next = n->next;
            if (free_value)
                free_value(n->value);
            free(n);
            n = next;
        }
    }
    free(t->buckets);
    free(t);
}

/* Rehash into nbuckets; on allocation failure the table stays as it is. */
static void strtab_resize(strtab *t, size_t nbuckets)
{
    struct strtab_node **b = calloc(nbuckets, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct strtab_node *n = t->buckets[i];
        while (n) {
            struct strtab_node *next = n->next;
            size_t j = n->hash & (nbuckets - 1);
            n->next = b[j];
            b[j] = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nbuckets;
}

static struct strtab_node **strtab_slot(const strtab *t, const char *key, uint64_t hash)
{
    struct strtab_node **slot = &t->buckets[hash & (t->nbuckets - 1)];
    while (*slot && ((*slot)->hash != hash || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->next;
    return slot;
}

void *strtab_get(const strtab *t, const char *key)
{
    struct strtab_node *n = *strtab_slot(t, key, strtab_hash(t->seed, key));
    return n ? n->value : NULL;
}

int strtab_insert(strtab *t, const char *key, void *value)
{
    struct strtab_node *n = malloc(sizeof(*n));
    if (!n)
        return -1;
    n->hash = strtab_hash(t->seed, key);
    n->key = key;
    n->value = value;
    size_t i = n->hash & (t->nbuckets - 1);
    n->next = t->buckets[i];
    t->buckets[i] = n;
    t->count++;
    if (t->count > t->nbuckets)
        strtab_resize(t, t->nbuckets * 2);
    return 0;
}

void *strtab_remove(strtab *t, const char *key)
{
    struct strtab_node **slot = strtab_slot(t, key, strtab_hash(t->seed, key));
    struct strtab_node *n = *slot;
    if (!n)
        return NULL;
    void *value = n->value;
    *slot = n->next;
    free(n);
    t->count--;
    if (t->nbuckets > STRTAB_MIN_BUCKETS && t->count < t->nbuckets / 4)
        strtab_resize(t, t->nbuckets / 2);
    return value;
}

size_t strtab_count(const strtab *t)
{
    return t->count;
}

void strtab_foreach(const strtab *t, void (*fn)(void *value, void *userdata), void *userdata)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (struct strtab_node *n = t->buckets[i]; n; n = n->next)
            fn(n->value, userdata);
}
