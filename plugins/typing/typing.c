/* The typing plugin: descriptor, configuration, the client events it
 * handles (typing_start, typing_stop) and those it watches before their
 * handler (send_message and leave_channel end the sender's typing). */
#include "typing.h"

#include <stdlib.h>
#include <string.h>

static struct typing typing_state;

static const sbr_config_key typing_keys[] = {
    {"ttl_seconds", SBR_CONF_INT, "10", 1, 3600, SBR_CONF_RELOADABLE,
     "how long a typing indicator lives without a refresh"},
    {"rebroadcast_ms", SBR_CONF_INT, "3000", 0, 3600000, SBR_CONF_RELOADABLE,
     "a typing_start repeated within this window refreshes without a new broadcast"},
    SBR_CONF_END,
};

static void typing_configure(struct typing *t)
{
    t->ttl_ms = (uint64_t)t->api->config_int(t->self, "ttl_seconds") * 1000u;
    t->rebroadcast_ms = (uint64_t)t->api->config_int(t->self, "rebroadcast_ms");
    typing_reap_configure(t);
}

static int typing_on_start_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return typing_on_start(userdata, event);
}

static int typing_on_stop_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return typing_on_stop(userdata, event);
}

static int typing_on_send_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return typing_on_end_event(userdata, event, 0);
}

static int typing_on_leave_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return typing_on_end_event(userdata, event, 1);
}

static int typing_on_identity_hook(enum sbr_event_id id, void *event, void *userdata)
{
    typing_on_identity(userdata, event);
    return 0;
}

static int typing_on_disconnect_hook(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_disconnect *gone = event;
    typing_on_disconnect(userdata, gone->conn);
    return 0;
}

static void typing_republish(struct typing *t, struct typing_entry *entry, void *arg)
{
    char *key = chat_format("typing:%s", entry->channel_id);
    if (key)
        t->api->map_set(key, entry->user_id, t->worker, t->ttl_ms, chat_state_ignore, NULL);
    free(key);
    typing_listed(t, entry);
}

static int typing_on_bus_state(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_bus_state *change = event;
    /* The shared backend is back (or new): put this worker's typings there
     * so joins on other workers list them; the local timers still end them. */
    if (change->state == SBR_BUS_CONNECTED && change->previous != SBR_BUS_CONNECTED) {
        typing_reap_connected(userdata);
        typing_table_foreach(userdata, typing_republish, NULL);
    }
    return 0;
}

static int typing_on_reload(enum sbr_event_id id, void *event, void *userdata)
{
    typing_configure(userdata);
    return 0;
}

static const sbr_metric_def typing_metrics[] = {
    {"superbot_typing_orphans_stopped_total", SBR_METRIC_COUNTER,
     "Typing indicators of a worker that died ended by this worker", NULL},
    {NULL, 0, NULL, NULL},
};

static int typing_load(sbr_plugin *self, const sbr_api *api)
{
    struct typing *t = &typing_state;
    memset(t, 0, sizeof *t);
    t->self = self;
    t->api = api;
    if (!chat_services_present(self, api) || typing_worker_init(t) != 0)
        return -1;
    typing_configure(t);
    if (sbr_metrics_declare(api, self, typing_metrics) != SBR_OK ||
        api->message_handler(self, "typing_start", typing_on_start_hook, t) != SBR_OK ||
        api->message_handler(self, "typing_stop", typing_on_stop_hook, t) != SBR_OK ||
        api->message_filter(self, "send_message", typing_on_send_hook, t) != SBR_OK ||
        api->message_filter(self, "leave_channel", typing_on_leave_hook, t) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_DISCONNECT, typing_on_disconnect_hook, t) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_IDENTITY, typing_on_identity_hook, t) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_RELOAD, typing_on_reload, t) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_BUS_STATE, typing_on_bus_state, t) != SBR_OK || !t->beat_timer) {
        api->set_error(self, "cannot register the metrics, hooks and timer of typing");
        return -1;
    }
    return 0;
}

/* The core stops the timers after this; the entries they point to go here. */
static void typing_unload(sbr_plugin *self)
{
    typing_table_clear(&typing_state);
    typing_identity_clear(&typing_state);
}

SBR_PLUGIN_DEFINE(.name = "typing", .version = "1.0.0", .description = "typing indicators per channel",
                  .config = typing_keys, .on_load = typing_load, .on_unload = typing_unload)
