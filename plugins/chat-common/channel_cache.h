/* This worker's copy of the channel records it has read or written.
 *
 * The registry lives in shared state.  When a configured shared backend is
 * away (bus state SBR_BUS_DOWN) the bus answers from its in-process store,
 * which does not hold the registry, so every channel would look unknown;
 * lookups then fall back on this copy.  When the backend comes back, the
 * channels plugin writes the records changed meanwhile, and those missing
 * there, back to it.  Best effort: at most CHANNEL_CACHE_MAX channels. */
#ifndef SBR_CHANNEL_CACHE_H
#define SBR_CHANNEL_CACHE_H

#include "channel_record.h"

#define CHANNEL_CACHE_MAX 65536
#define CHANNEL_CACHE_BUCKETS 4096

struct channel_cache_entry {
    struct channel_cache_entry *next;
    char channel_id[CHAT_ID_MAX + 1];
    struct channel_record record;
    int dirty; /* written while the shared backend was away */
    char *text; /* the shared record's text the record was read from, or NULL */
    size_t text_len;
};

struct channel_cache {
    struct channel_cache_entry *buckets[CHANNEL_CACHE_BUCKETS];
    size_t count;
};

/* Remember a record (dirty: written while the backend was away). */
void channel_cache_put(struct channel_cache *cache, const char *channel_id, const struct channel_record *record,
                       int dirty);
/* The record read from text (the shared state's value), from the copy when
 * the text is the one it was read from last (a message costs a compare
 * instead of a parse), else parsed and remembered.  0, or -1 if the text is
 * not a record. */
int channel_cache_read(struct channel_cache *cache, const char *channel_id, const char *text, size_t len,
                       struct channel_record *out);
/* The remembered record, or NULL. */
struct channel_cache_entry *channel_cache_get(struct channel_cache *cache, const char *channel_id);
void channel_cache_foreach(struct channel_cache *cache, void (*fn)(struct channel_cache_entry *entry, void *arg),
                           void *arg);
void channel_cache_clear(struct channel_cache *cache);

/* Read a channel's record: found = 1 (record set), 0 unknown, -1 the
 * backend failed.  While the backend is away a remembered record answers. */
typedef void (*channel_lookup_fn)(int found, const struct channel_record *record, void *userdata);
/* Returns SBR_OK (fn is called later, once) or an error (fn is not called). */
int channel_lookup(const sbr_api *api, struct channel_cache *cache, const char *channel_id, channel_lookup_fn fn,
                   void *userdata);

#endif
