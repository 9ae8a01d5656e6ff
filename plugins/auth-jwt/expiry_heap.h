/* Connections ordered by when their token expires (private to auth-jwt): a
 * binary min-heap of (deadline, connection) with each connection's place in
 * it kept in an open-addressing table, so that a refresh moves its entry
 * and a disconnect removes it in O(log n), and the earliest is O(1).  One
 * structure for every connection of the worker, driven by one timer
 * (expiry.c).  Pure: no host services. */
#ifndef AUTH_JWT_EXPIRY_HEAP_H
#define AUTH_JWT_EXPIRY_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct expiry_entry {
    uint64_t conn; /* an sbr_conn_id, never 0 */
    int64_t deadline;
};

struct expiry_place {
    uint64_t conn; /* 0: a free slot */
    size_t index;  /* in heap */
};

struct expiry_heap {
    struct expiry_entry *heap;
    size_t n, cap;
    struct expiry_place *places; /* a power of two long, at most 3/4 full */
    size_t n_places, cap_places;
};

/* Set (insert or move) conn's deadline.  0, or -1 when out of memory (the
 * heap is then unchanged). */
int expiry_heap_set(struct expiry_heap *h, uint64_t conn, int64_t deadline);
/* Forget conn (nothing if absent). */
void expiry_heap_remove(struct expiry_heap *h, uint64_t conn);
/* The earliest entry, or NULL when empty. */
const struct expiry_entry *expiry_heap_first(const struct expiry_heap *h);
/* conn's deadline into *deadline: 1 if tracked, else 0. */
int expiry_heap_get(const struct expiry_heap *h, uint64_t conn, int64_t *deadline);
void expiry_heap_free(struct expiry_heap *h);

#endif
