/* The channels plugin: the channel registry, join/leave, send_message and
 * the publish API (private to the plugin). */
#ifndef SBR_CHANNELS_H
#define SBR_CHANNELS_H

#include <stdint.h>
#include <superbot-realtime/plugin.h>
#include "channel_cache.h"
#include "channel_joins.h"
#include "message_id.h"

struct channels {
    sbr_plugin *self;
    const sbr_api *api;
    int64_t max_content_length; /* characters (code points) of a message */
    struct message_id ids;
    struct channel_cache cache;
    struct channel_joins joins; /* which local connection joined which channel */
};

/* The shared backend is back: write the records changed while it was away,
 * and those it lost, back to it. */
void channels_republish(struct channels *ch);

/* Client events; each answers the message itself and returns a verdict. */
int channels_join(struct channels *ch, const sbr_event_message *event);
int channels_leave(struct channels *ch, const sbr_event_message *event);
int channels_send(struct channels *ch, const sbr_event_message *event);

/* SBR_EVENT_CONNECT: a recovering connection's channel rooms are checked
 * against its identity's servers (channel_restore.c). */
int channels_restore(struct channels *ch, const sbr_event_connect *event);
/* SBR_EVENT_CONNECTED: a connection that asked for a recovery and did not
 * get it forgets the channels its offer had. */
void channels_restored(struct channels *ch, const sbr_event_connected *event);

/* SBR_EVENT_IDENTITY: a connection that left a server leaves its channels. */
void channels_identity_changed(struct channels *ch, const sbr_event_identity *event);

/* PUT /api/realtime/channels/{channel_id} */
void channels_http_put(sbr_http_request *req, void *userdata);
/* POST /api/realtime/publish */
void channels_http_publish(sbr_http_request *req, void *userdata);

#endif
