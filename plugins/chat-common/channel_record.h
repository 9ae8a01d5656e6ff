/* The channel registry record, shared state under "channels:<id>" with no
 * TTL: {"server_id": "7", "slow_mode": 10}.  Written by the channels plugin
 * (PUT /api/realtime/channels/{id}), read by channels and slowmode; part of
 * the chat-common library. */
#ifndef SBR_CHANNEL_RECORD_H
#define SBR_CHANNEL_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "chat_event.h"

#define CHANNEL_SLOW_MODE_MAX 21600

struct channel_record {
    char server_id[CHAT_ID_MAX + 1];
    int64_t slow_mode; /* seconds between two messages of one user, 0: off */
};

/* The state key of a channel ("channels:<id>"), or NULL; free() it. */
char *channel_record_key(const char *channel_id);
/* Parse a stored record.  Returns 0, or -1 if it is not a valid record. */
int channel_record_parse(const char *value, size_t len, struct channel_record *out);
/* The record as JSON text, or NULL; free() it. */
char *channel_record_encode(const struct channel_record *record);

#endif
