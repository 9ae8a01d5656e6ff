/* The in-process state: keys with a TTL, atomic reservations, and maps whose
 * fields expire one by one.  Synchronous and clock-free: every call takes
 * `now` (ms since the epoch) and first drops whatever expired by then, so
 * readers only ever see live data and pay only for live data.  Keys and maps
 * are separate namespaces, as in the Redis implementation. */
#ifndef SBR_BUS_LOCAL_STORE_H
#define SBR_BUS_LOCAL_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct local_store local_store;

local_store *local_store_new(void);
void local_store_free(local_store *st);

/* Drop everything that expired at or before now. */
void local_store_purge(local_store *st, uint64_t now);
/* The earliest deadline held, or 0 when nothing expires. */
uint64_t local_store_next_deadline(const local_store *st);
/* Live keys plus live map fields (after the last purge). */
size_t local_store_size(const local_store *st);

/* ttl_ms 0: never expires.  Returns 0 or a negative enum sbr_status. */
int local_store_kv_set(local_store *st, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                       uint64_t now);
/* 1 and the value (NUL-terminated, owned by the store, valid until the next
 * call) when the key is live, 0 otherwise. */
int local_store_kv_get(local_store *st, const char *key, uint64_t now, const char **value, size_t *len);
/* local_store_kv_get, plus the key's deadline in *deadline (0: none). */
int local_store_kv_peek(local_store *st, const char *key, uint64_t now, const char **value, size_t *len,
                        uint64_t *deadline);
/* 1 if a live key was removed. */
int local_store_kv_del(local_store *st, const char *key, uint64_t now);
/* 1 if the key was free and is now held for ttl_ms; 0 with *remaining_ms
 * (the holder's time left, -1 when it never expires) if held; negative
 * enum sbr_status on error. */
int local_store_reserve(local_store *st, const char *key, uint64_t ttl_ms, uint64_t now, int64_t *remaining_ms);

/* Add delta to the integer at key (absent: 0) and put the result in *value;
 * a key without an expiry gets ttl_ms (0: none), one with an expiry keeps
 * it.  SBR_OK, SBR_ERR_INVALID when the value is not an integer or the sum
 * overflows, SBR_ERR_NOMEM. */
int local_store_incr(local_store *st, const char *key, int64_t delta, uint64_t ttl_ms, uint64_t now, int64_t *value);

/* Set a field for ttl_ms (0: no expiry).  1 if the field was not live
 * before, 0 if refreshed, negative enum sbr_status on error; *count is the
 * number of live fields after. */
int local_store_map_set(local_store *st, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                        uint64_t now, int64_t *count);
/* 1 if the field was live and is removed; *count as above. */
int local_store_map_del(local_store *st, const char *key, const char *field, uint64_t now, int64_t *count);
size_t local_store_map_count(local_store *st, const char *key, uint64_t now);
/* 1, the value (owned by the store, valid until the next call) and the
 * deadline (0: none) of a live field; 0 otherwise. */
int local_store_map_peek(local_store *st, const char *key, const char *field, uint64_t now, const char **value,
                         uint64_t *deadline);
/* Call fn on each live field of the map; fn must not change the store.
 * Returns the number of fields. */
size_t local_store_map_foreach(local_store *st, const char *key, uint64_t now,
                               void (*fn)(const char *field, const char *value, void *userdata), void *userdata);

#endif
