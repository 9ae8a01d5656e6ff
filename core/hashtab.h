/* An intrusive hash table keyed by NUL-terminated strings (private): the
 * caller embeds a struct hashtab_node in its record, points node.key at the
 * record's own copy of the key, and gets the record back with
 * HASHTAB_ENTRY.  Buckets double as the table fills; lookups are O(1). */
#ifndef SBR_CORE_HASHTAB_H
#define SBR_CORE_HASHTAB_H

#include <stddef.h>

struct hashtab_node {
    struct hashtab_node *next;
    size_t hash;
    const char *key;
};

struct hashtab {
    struct hashtab_node **buckets;
    size_t n_buckets; /* a power of two, or 0 before the first insert */
    size_t count;
};

#define HASHTAB_ENTRY(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

/* FNV-1a of the key. */
size_t hashtab_hash(const char *key);
/* The node whose key equals `key`, or NULL. */
struct hashtab_node *hashtab_find(const struct hashtab *t, const char *key);
/* Add a node whose key is not in the table yet; 0, or -1 without memory. */
int hashtab_insert(struct hashtab *t, struct hashtab_node *node);
/* Remove a node that is in the table. */
void hashtab_remove(struct hashtab *t, struct hashtab_node *node);
/* Walk the table: the first node for NULL, else the one after `node`;
 * NULL at the end.  Taking the next node before removing or freeing the
 * current one is safe; inserting while walking is not (it may regrow). */
struct hashtab_node *hashtab_next(const struct hashtab *t, const struct hashtab_node *node);
/* Free the buckets (not the records). */
void hashtab_free(struct hashtab *t);

#endif
