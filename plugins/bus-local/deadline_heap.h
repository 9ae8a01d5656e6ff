/* A binary min-heap of deadlines.  Items are embedded in the objects that
 * expire and remember their index, so refreshing or removing one is
 * O(log n) and the earliest deadline is O(1). */
#ifndef SBR_BUS_DEADLINE_HEAP_H
#define SBR_BUS_DEADLINE_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct deadline_item {
    uint64_t deadline; /* ms since the epoch */
    size_t index;      /* position in the heap, DEADLINE_NONE when out */
};

#define DEADLINE_NONE ((size_t)-1)

struct deadline_heap {
    struct deadline_item **items;
    size_t count;
    size_t capacity;
};

void deadline_heap_init(struct deadline_heap *h);
void deadline_heap_free(struct deadline_heap *h);
/* Insert item with its deadline set.  Returns 0, or -1 when out of memory. */
int deadline_heap_push(struct deadline_heap *h, struct deadline_item *item);
/* Move an item already in the heap after its deadline changed. */
void deadline_heap_update(struct deadline_heap *h, struct deadline_item *item);
/* Remove an item (no-op when it is not in the heap). */
void deadline_heap_remove(struct deadline_heap *h, struct deadline_item *item);
/* The earliest item, or NULL when empty. */
struct deadline_item *deadline_heap_top(const struct deadline_heap *h);

#endif
