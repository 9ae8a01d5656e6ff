/* This worker's copy of the channel records (see channel_cache.h). */
#include "channel_cache.h"

#include <stdlib.h>
#include <string.h>

static size_t channel_cache_bucket(const char *channel_id)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = channel_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (size_t)(h % CHANNEL_CACHE_BUCKETS);
}

struct channel_cache_entry *channel_cache_get(struct channel_cache *cache, const char *channel_id)
{
    for (struct channel_cache_entry *e = cache->buckets[channel_cache_bucket(channel_id)]; e; e = e->next)
        if (strcmp(e->channel_id, channel_id) == 0)
            return e;
    return NULL;
}

void channel_cache_put(struct channel_cache *cache, const char *channel_id, const struct channel_record *record,
                       int dirty)
{
    struct channel_cache_entry *e = channel_cache_get(cache, channel_id);
    if (!e) {
        if (cache->count >= CHANNEL_CACHE_MAX || strlen(channel_id) > CHAT_ID_MAX || !(e = calloc(1, sizeof *e)))
            return;
        strcpy(e->channel_id, channel_id);
        size_t b = channel_cache_bucket(channel_id);
        e->next = cache->buckets[b];
        cache->buckets[b] = e;
        cache->count++;
    }
    e->record = *record;
    e->dirty = e->dirty || dirty;
    free(e->text);
    e->text = NULL;
    e->text_len = 0;
}

int channel_cache_read(struct channel_cache *cache, const char *channel_id, const char *text, size_t len,
                       struct channel_record *out)
{
    struct channel_cache_entry *e = channel_cache_get(cache, channel_id);
    if (e && e->text && e->text_len == len && memcmp(e->text, text, len) == 0) {
        *out = e->record;
        return 0;
    }
    if (channel_record_parse(text, len, out) != 0)
        return -1;
    channel_cache_put(cache, channel_id, out, 0);
    e = e ? e : channel_cache_get(cache, channel_id);
    if (e && (e->text = malloc(len ? len : 1))) {
        memcpy(e->text, text, len);
        e->text_len = len;
    }
    return 0;
}

void channel_cache_foreach(struct channel_cache *cache, void (*fn)(struct channel_cache_entry *entry, void *arg),
                           void *arg)
{
    for (size_t b = 0; b < CHANNEL_CACHE_BUCKETS; b++)
        for (struct channel_cache_entry *e = cache->buckets[b]; e; e = e->next)
            fn(e, arg);
}

void channel_cache_clear(struct channel_cache *cache)
{
    for (size_t b = 0; b < CHANNEL_CACHE_BUCKETS; b++) {
        while (cache->buckets[b]) {
            struct channel_cache_entry *e = cache->buckets[b];
            cache->buckets[b] = e->next;
            free(e->text);
            free(e);
        }
    }
    cache->count = 0;
}

struct channel_lookup {
    const sbr_api *api;
    struct channel_cache *cache;
    char channel_id[CHAT_ID_MAX + 1];
    channel_lookup_fn fn;
    void *userdata;
};

static void channel_lookup_done(const sbr_state_reply *reply, void *userdata)
{
    struct channel_lookup *lookup = userdata;
    struct channel_record record;
    if (reply->status == SBR_OK && reply->found &&
        channel_cache_read(lookup->cache, lookup->channel_id, reply->value, reply->value_len, &record) == 0) {
        lookup->fn(1, &record, lookup->userdata);
    } else {
        struct channel_cache_entry *remembered = NULL;
        if (reply->status != SBR_OK || lookup->api->bus_state() == SBR_BUS_DOWN)
            remembered = channel_cache_get(lookup->cache, lookup->channel_id);
        if (remembered)
            lookup->fn(1, &remembered->record, lookup->userdata);
        else
            lookup->fn(reply->status == SBR_OK ? 0 : -1, NULL, lookup->userdata);
    }
    free(lookup);
}

int channel_lookup(const sbr_api *api, struct channel_cache *cache, const char *channel_id, channel_lookup_fn fn,
                   void *userdata)
{
    if (strlen(channel_id) > CHAT_ID_MAX)
        return SBR_ERR_INVALID;
    struct channel_lookup *lookup = malloc(sizeof *lookup);
    char *key = channel_record_key(channel_id);
    int rc = SBR_ERR_NOMEM;
    if (lookup && key) {
        lookup->api = api;
        lookup->cache = cache;
        strcpy(lookup->channel_id, channel_id);
        lookup->fn = fn;
        lookup->userdata = userdata;
        rc = api->kv_get(key, channel_lookup_done, lookup);
    }
    free(key);
    if (rc != SBR_OK)
        free(lookup);
    return rc;
}
