/* Connections by token expiry: an indexed min-heap (see expiry_heap.h). */
#include "expiry_heap.h"

#include <stdlib.h>
#include <string.h>

/* --- where each connection sits: linear probing, backward-shift deletion --- */

static size_t place_home(const struct expiry_heap *h, uint64_t conn)
{
    return (size_t)((conn * 11400714819323198485ull) >> 17) & (h->cap_places - 1);
}

static struct expiry_place *place_find(const struct expiry_heap *h, uint64_t conn)
{
    if (!h->cap_places)
        return NULL;
    for (size_t i = place_home(h, conn);; i = (i + 1) & (h->cap_places - 1)) {
        if (h->places[i].conn == conn)
            return &h->places[i];
        if (h->places[i].conn == 0)
            return NULL;
    }
}

static void place_put(struct expiry_heap *h, uint64_t conn, size_t index)
{
    size_t i = place_home(h, conn);
    while (h->places[i].conn != 0 && h->places[i].conn != conn)
        i = (i + 1) & (h->cap_places - 1);
    if (h->places[i].conn == 0)
        h->n_places++;
    h->places[i] = (struct expiry_place){conn, index};
}

static int places_grow(struct expiry_heap *h)
{
    if ((h->n_places + 1) * 4 <= h->cap_places * 3)
        return 0;
    size_t cap = h->cap_places ? h->cap_places * 2 : 64;
    struct expiry_place *fresh = calloc(cap, sizeof(*fresh));
    if (!fresh)
        return -1;
    struct expiry_place *old = h->places;
    size_t old_cap = h->cap_places;
    h->places = fresh;
    h->cap_places = cap;
    h->n_places = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].conn)
            place_put(h, old[i].conn, old[i].index);
    free(old);
    return 0;
}

/* Empty slot i, shifting back the entries of its cluster that would no
 * longer be found past the hole. */
static void place_delete(struct expiry_heap *h, struct expiry_place *slot)
{
    size_t mask = h->cap_places - 1, i = (size_t)(slot - h->places);
    for (size_t j = (i + 1) & mask; h->places[j].conn; j = (j + 1) & mask) {
        size_t home = place_home(h, h->places[j].conn);
        /* Movable when home is not cyclically within (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->places[i] = h->places[j];
            i = j;
        }
    }
    h->places[i].conn = 0;
    h->n_places--;
}

/* --- the heap ------------------------------------------------------------- */

static void heap_put(struct expiry_heap *h, size_t index, struct expiry_entry e)
{
    h->heap[index] = e;
    place_find(h, e.conn)->index = index;
}

static void heap_up(struct expiry_heap *h, size_t index)
{
    struct expiry_entry e = h->heap[index];
    while (index > 0 && h->heap[(index - 1) / 2].deadline > e.deadline) {
        heap_put(h, index, h->heap[(index - 1) / 2]);
        index = (index - 1) / 2;
    }
    heap_put(h, index, e);
}

static void heap_down(struct expiry_heap *h, size_t index)
{
    struct expiry_entry e = h->heap[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->heap[child + 1].deadline < h->heap[child].deadline)
            child++;
        if (h->heap[child].deadline >= e.deadline)
            break;
        heap_put(h, index, h->heap[child]);
        index = child;
    }
    heap_put(h, index, e);
}

int expiry_heap_set(struct expiry_heap *h, uint64_t conn, int64_t deadline)
{
    struct expiry_place *at = place_find(h, conn);
    if (at) {
        size_t index = at->index;
        h->heap[index].deadline = deadline;
        heap_up(h, index);
        heap_down(h, place_find(h, conn)->index);
        return 0;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct expiry_entry *grown = realloc(h->heap, cap * sizeof(*grown));
        if (!grown)
            return -1;
        h->heap = grown;
        h->cap = cap;
    }
    if (places_grow(h) != 0)
        return -1;
    place_put(h, conn, h->n);
    h->heap[h->n++] = (struct expiry_entry){conn, deadline};
    heap_up(h, h->n - 1);
    return 0;
}

void expiry_heap_remove(struct expiry_heap *h, uint64_t conn)
{
    struct expiry_place *at = place_find(h, conn);
    if (!at)
        return;
    size_t index = at->index;
    place_delete(h, at);
    struct expiry_entry last = h->heap[--h->n];
    if (index == h->n)
        return;
    heap_put(h, index, last);
    heap_up(h, index);
    heap_down(h, place_find(h, last.conn)->index);
}

const struct expiry_entry *expiry_heap_first(const struct expiry_heap *h)
{
    return h->n ? &h->heap[0] : NULL;
}

int expiry_heap_get(const struct expiry_heap *h, uint64_t conn, int64_t *deadline)
{
    const struct expiry_place *at = place_find(h, conn);
    if (at)
        *deadline = h->heap[at->index].deadline;
    return at != NULL;
}

void expiry_heap_free(struct expiry_heap *h)
{
    free(h->heap);
    free(h->places);
    memset(h, 0, sizeof(*h));
}
