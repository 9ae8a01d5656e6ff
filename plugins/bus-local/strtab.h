/* A string-keyed hash table with chaining, for the in-process store.  Keys
 * are borrowed: the caller keeps each key alive until its node is removed
 * (the stored objects own their keys).  The hash is seeded per table so keys
 * chosen by clients cannot be aimed at one bucket across processes. */
#ifndef SBR_BUS_STRTAB_H
#define SBR_BUS_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab strtab;

strtab *strtab_new(void);
/* Free the table; free_value (may be NULL) is called on every stored value. */
void strtab_free(strtab *t, void (*free_value)(void *value));
void *strtab_get(const strtab *t, const char *key);
/* Insert key (must not be present).  Returns 0, or -1 when out of memory. */
int strtab_insert(strtab *t, const char *key, void *value);
/* Remove key; returns its value or NULL. */
void *strtab_remove(strtab *t, const char *key);
size_t strtab_count(const strtab *t);
/* Call fn on every value; fn must not change the table. */
void strtab_foreach(const strtab *t, void (*fn)(void *value, void *userdata), void *userdata);

#endif
