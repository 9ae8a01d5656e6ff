#include "deadline_heap.h"

#include <stdlib.h>

void deadline_heap_init(struct deadline_heap *h)
{
    h->items = NULL;
    h->count = 0;
    h->capacity = 0;
}

void deadline_heap_free(struct deadline_heap *h)
{
    free(h->items);
    deadline_heap_init(h);
}

static void deadline_heap_place(struct deadline_heap *h, size_t i, struct deadline_item *item)
{
    h->items[i] = item;
    item->index = i;
}

static void deadline_heap_sift_up(struct deadline_heap *h, size_t i)
{
    struct deadline_item *item = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->items[parent]->deadline <= item->deadline)
            break;
        deadline_heap_place(h, i, h->items[parent]);
        i = parent;
    }
    deadline_heap_place(h, i, item);
}

static void deadline_heap_sift_down(struct deadline_heap *h, size_t i)
{
    struct deadline_item *item = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && h->items[child + 1]->deadline < h->items[child]->deadline)
            child++;
        if (item->deadline <= h->items[child]->deadline)
            break;
        deadline_heap_place(h, i, h->items[child]);
        i = child;
    }
    deadline_heap_place(h, i, item);
}

int deadline_heap_push(struct deadline_heap *h, struct deadline_item *item)
{
    if (h->count == h->capacity) {
        size_t cap = h->capacity ? h->capacity * 2 : 64;
        struct deadline_item **items = realloc(h->items, cap * sizeof(*items));
        if (!items)
            return -1;
        h->items = items;
        h->capacity = cap;
    }
    deadline_heap_place(h, h->count++, item);
    deadline_heap_sift_up(h, item->index);
    return 0;
}

void deadline_heap_update(struct deadline_heap *h, struct deadline_item *item)
{
    if (item->index == DEADLINE_NONE)
        return;
    deadline_heap_sift_up(h, item->index);
    deadline_heap_sift_down(h, item->index);
}

void deadline_heap_remove(struct deadline_heap *h, struct deadline_item *item)
{
    size_t i = item->index;
    if (i == DEADLINE_NONE)
        return;
    item->index = DEADLINE_NONE;
    struct deadline_item *last = h->items[--h->count];
    if (i == h->count)
        return;
    deadline_heap_place(h, i, last);
    deadline_heap_sift_up(h, i);
    deadline_heap_sift_down(h, last->index);
}

struct deadline_item *deadline_heap_top(const struct deadline_heap *h)
{
    return h->count ? h->items[0] : NULL;
}
