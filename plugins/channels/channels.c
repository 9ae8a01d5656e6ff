/* The channels plugin: descriptor, configuration, the client events it
 * handles (join_channel, leave_channel, send_message), and the channels a
 * connection leaves with their server. */
#include "channels.h"

#include <string.h>

static struct channels channels_state;

static const sbr_config_key channels_keys[] = {
    {"max_content_length", SBR_CONF_INT, "4000", 1, 100000, SBR_CONF_RELOADABLE,
     "longest message content, in characters"},
    SBR_CONF_END,
};

static int channels_on_join(enum sbr_event_id id, void *event, void *userdata)
{
    return channels_join(userdata, event);
}

static int channels_on_leave(enum sbr_event_id id, void *event, void *userdata)
{
    return channels_leave(userdata, event);
}

static int channels_on_send(enum sbr_event_id id, void *event, void *userdata)
{
    return channels_send(userdata, event);
}

static int channels_on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    return channels_restore(userdata, event);
}

static int channels_on_connected(enum sbr_event_id id, void *event, void *userdata)
{
    channels_restored(userdata, event);
    return 0;
}

static int channels_on_identity(enum sbr_event_id id, void *event, void *userdata)
{
    channels_identity_changed(userdata, event);
    return 0;
}

static int channels_on_disconnect(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_disconnect *gone = event;
    struct channels *ch = userdata;
    channel_joins_forget(&ch->joins, gone->conn);
    return 0;
}

static int channels_on_reload(enum sbr_event_id id, void *event, void *userdata)
{
    struct channels *ch = userdata;
    ch->max_content_length = ch->api->config_int(ch->self, "max_content_length");
    return 0;
}

static int channels_on_bus_state(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_bus_state *change = event;
    struct channels *ch = userdata;
    /* The shared backend may have lost our worker number, and the registry. */
    if (change->state == SBR_BUS_CONNECTED && change->previous != SBR_BUS_CONNECTED) {
        message_id_claim(&ch->ids);
        channels_republish(ch);
    }
    return 0;
}

static const sbr_metric_def channels_metrics[] = {
    {"superbot_messages_sent_total", SBR_METRIC_COUNTER, "Chat messages accepted from send_message", NULL},
    {"superbot_published_total", SBR_METRIC_COUNTER, "Events fanned out through POST /api/realtime/publish", NULL},
    {NULL, 0, NULL, NULL},
};

static int channels_load(sbr_plugin *self, const sbr_api *api)
{
    struct channels *ch = &channels_state;
    memset(ch, 0, sizeof *ch);
    ch->self = self;
    ch->api = api;
    ch->max_content_length = api->config_int(self, "max_content_length");
    if (!chat_services_present(self, api))
        return -1;
    if (sbr_metrics_declare(api, self, channels_metrics) != SBR_OK ||
        api->message_handler(self, "join_channel", channels_on_join, ch) != SBR_OK ||
        api->message_handler(self, "leave_channel", channels_on_leave, ch) != SBR_OK ||
        api->message_handler(self, "send_message", channels_on_send, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_CONNECT, channels_on_connect, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_CONNECTED, channels_on_connected, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_IDENTITY, channels_on_identity, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_DISCONNECT, channels_on_disconnect, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_RELOAD, channels_on_reload, ch) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_BUS_STATE, channels_on_bus_state, ch) != SBR_OK ||
        api->http_route(self, "PUT", "/api/realtime/channels/{channel_id}", channels_http_put, ch) != SBR_OK ||
        api->http_route(self, "POST", "/api/realtime/publish", channels_http_publish, ch) != SBR_OK) {
        api->set_error(self, "cannot register the metrics, hooks and routes of channels");
        return -1;
    }
    if (message_id_start(&ch->ids, self, api) != 0) {
        api->set_error(self, "cannot start the message id timer");
        return -1;
    }
    return 0;
}

static void channels_unload(sbr_plugin *self)
{
    channel_cache_clear(&channels_state.cache);
    channel_joins_clear(&channels_state.joins);
}

SBR_PLUGIN_DEFINE(.name = "channels", .version = "1.0.0",
                  .description = "channel registry, join/leave, send_message and the publish API",
                  .config = channels_keys, .on_load = channels_load,
                  .on_unload = channels_unload)
