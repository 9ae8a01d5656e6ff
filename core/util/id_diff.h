/* The differences between two lists of ids (layer 0, private): what the
 * second has that the first has not, and the other way round, each id once.
 * Sorted copies merged, so O(n log n) for the long membership lists a token
 * may carry.  Used by the identity change (sio_identity.c) and by the
 * tests' fake host.  Calls the C library only. */
#ifndef SBR_UTIL_ID_DIFF_H
#define SBR_UTIL_ID_DIFF_H

#include <stddef.h>

struct id_diff {
    const char **added;   /* in `after`, not in `before`; pointers into `after` */
    size_t n_added;
    const char **removed; /* in `before`, not in `after`; pointers into `before` */
    size_t n_removed;
    void *block_;         /* the one allocation behind the lists */
};

/* Fill *diff (NULL lists are empty).  0, or -1 when out of memory (then
 * *diff is empty).  Free with id_diff_free. */
int id_diff_compute(const char *const *before, size_t n_before, const char *const *after, size_t n_after,
                    struct id_diff *diff);
void id_diff_free(struct id_diff *diff);

#endif
