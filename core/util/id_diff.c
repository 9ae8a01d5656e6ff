/* The differences between two lists of ids (see id_diff.h). */
#include "util/id_diff.h"

#include <stdlib.h>
#include <string.h>

static int id_compare(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of sorted[0..n) missing from sorted other[0..m), each once, into out. */
static size_t id_missing(const char **sorted, size_t n, const char **other, size_t m, const char **out)
{
    size_t count = 0, j = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(sorted[i], sorted[i - 1]) == 0)
            continue;
        while (j < m && strcmp(other[j], sorted[i]) < 0)
            j++;
        if (j == m || strcmp(other[j], sorted[i]) != 0)
            out[count++] = sorted[i];
    }
    return count;
}

int id_diff_compute(const char *const *before, size_t n_before, const char *const *after, size_t n_after,
                    struct id_diff *diff)
{
    memset(diff, 0, sizeof(*diff));
    if (!before)
        n_before = 0;
    if (!after)
        n_after = 0;
    if (n_before + n_after == 0)
        return 0;
    /* Sorted copies of both lists, then room for the two answers. */
    const char **block = malloc(2 * (n_before + n_after) * sizeof(*block));
    if (!block)
        return -1;
    const char **b = block, **a = block + n_before;
    /* memcpy and qsort want real pointers even for nothing. */
    if (n_before) {
        memcpy(b, before, n_before * sizeof(*b));
        qsort(b, n_before, sizeof(*b), id_compare);
    }
    if (n_after) {
        memcpy(a, after, n_after * sizeof(*a));
        qsort(a, n_after, sizeof(*a), id_compare);
    }
    diff->added = a + n_after;
    diff->removed = diff->added + n_after;
    diff->n_added = id_missing(a, n_after, b, n_before, diff->added);
    diff->n_removed = id_missing(b, n_before, a, n_after, diff->removed);
    diff->block_ = block;
    return 0;
}

void id_diff_free(struct id_diff *diff)
{
    free(diff->block_);
    memset(diff, 0, sizeof(*diff));
}
