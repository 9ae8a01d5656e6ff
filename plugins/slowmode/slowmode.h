/* The slowmode plugin: a per-user cooldown per channel (private). */
#ifndef SBR_SLOWMODE_H
#define SBR_SLOWMODE_H

#include <stdint.h>
#include <superbot-realtime/plugin.h>
#include "channel_cache.h"

struct slowmode {
    sbr_plugin *self;
    const sbr_api *api;
    struct channel_cache cache;
};

/* A reservation waiting on shared state, from a socket or the server API. */
struct slowmode_call {
    struct slowmode *sm;
    sbr_conn_id conn;          /* socket: the sender */
    sbr_message *msg;          /* socket: the send_message in flight */
    sbr_http_request *req;     /* server API: the request */
    char channel_id[CHAT_ID_MAX + 1];
    char *user_id;
    struct channel_record record;
    /* After slowmode_lookup: the channel's record was read (found = 1),
     * does not exist (0), or the backend failed (-1). */
    void (*looked_up)(struct slowmode_call *call, int found);
    /* How the call ends: admitted, or refused with the wait left. */
    void (*admit)(struct slowmode_call *call);
    void (*refuse)(struct slowmode_call *call, int64_t remaining_ms);
};

/* Read the channel's record into call->record, then call->looked_up.
 * Returns 0, or -1 if the lookup could not start (nothing was called). */
int slowmode_lookup(struct slowmode_call *call);
/* Reserve the user's next slot in the channel of `call` (its record is
 * read), then call call->admit or call->refuse; `call` is freed after. */
void slowmode_reserve(struct slowmode_call *call);
void slowmode_call_free(struct slowmode_call *call);

/* send_message hook. */
int slowmode_on_send(struct slowmode *sm, sbr_event_message *event);
/* POST /api/realtime/channels/{channel_id}/reserve */
void slowmode_http_reserve(sbr_http_request *req, void *userdata);

#endif
