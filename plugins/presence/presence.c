/* The presence plugin: descriptor, configuration and hook dispatch. */
#include "presence.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static struct presence presence_state;

static const sbr_config_key presence_keys[] = {
    {"ttl_seconds", SBR_CONF_INT, "30", 1, 86400, 0,
     "how long a presence entry lives without a refresh by its worker"},
    {"refresh_seconds", SBR_CONF_INT, "0", 0, 86400, 0,
     "how often this worker refreshes its entries; 0: a third of ttl_seconds"},
    {"presence_grace_seconds", SBR_CONF_INT, "5", 0, 3600, 0,
     "a user whose last connection is lost (not closed) goes offline only if none is back within this"},
    SBR_CONF_END,
};

static int presence_on_connect_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return presence_on_connect(userdata, event);
}

static int presence_on_disconnect_hook(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_disconnect *gone = event;
    presence_on_disconnect(userdata, gone->conn, SBR_EVENT_HAS(gone, sbr_event_disconnect, lost) && gone->lost);
    return 0;
}

static int presence_on_identity_hook(enum sbr_event_id id, void *event, void *userdata)
{
    presence_on_identity(userdata, event);
    return 0;
}

static int presence_on_set_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return presence_on_set(userdata, event);
}

static int presence_on_snapshot_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return presence_on_snapshot(userdata, event);
}

static int presence_on_bus_state(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_bus_state *change = event;
    /* The shared backend is back (or new): it may hold none of our entries. */
    if (change->state == SBR_BUS_CONNECTED && change->previous != SBR_BUS_CONNECTED)
        presence_recovered(userdata);
    return 0;
}

static void presence_refresh_tick(void *userdata)
{
    presence_refresh_slice(userdata);
}

static void presence_beat_tick(void *userdata)
{
    presence_reap_tick(userdata);
}

int presence_worker_init(struct presence *p)
{
    return chat_worker_copy(p->self, p->api, p->worker, sizeof p->worker);
}

static int presence_check(sbr_plugin *self, const sbr_api *api)
{
    int64_t ttl = api->config_int(self, "ttl_seconds");
    int64_t refresh = api->config_int(self, "refresh_seconds");
    if (refresh >= ttl) {
        SBR_SET_ERROR_KEY(api, self, "refresh_seconds",
                          "refresh_seconds (%" PRId64 ") must be shorter than ttl_seconds (%" PRId64 ")", refresh,
                          ttl);
        return -1;
    }
    return 0;
}

static const sbr_metric_def presence_metrics[] = {
    {"superbot_presence_updates_total", SBR_METRIC_COUNTER, "presence_update events announced by this worker", NULL},
    {"superbot_presence_orphans_offline_total", SBR_METRIC_COUNTER,
     "Users of a worker that died announced offline by this worker", NULL},
    {NULL, 0, NULL, NULL},
};

static int presence_load(sbr_plugin *self, const sbr_api *api)
{
    struct presence *p = &presence_state;
    memset(p, 0, sizeof *p);
    p->self = self;
    p->api = api;
    if (presence_check(self, api) != 0)
        return -1;
    int64_t ttl = api->config_int(self, "ttl_seconds");
    int64_t refresh = api->config_int(self, "refresh_seconds");
    p->ttl_ms = (uint64_t)ttl * 1000u;
    uint64_t refresh_ms = refresh ? (uint64_t)refresh * 1000u : p->ttl_ms / 3;
    p->refresh_ms = refresh_ms;
    /* A dead worker's users are announced offline within the TTL: at most
     * silence + one beat after its last heartbeat. */
    p->beat_ms = p->ttl_ms / 6 ? p->ttl_ms / 6 : 1;
    p->silence_ms = p->ttl_ms / 2;
    p->grace_ms = (uint64_t)api->config_int(self, "presence_grace_seconds") * 1000u;
    p->graces_tail = &p->graces;
    if (!chat_services_present(self, api) || presence_worker_init(p) != 0)
        return -1;
    if (sbr_metrics_declare(api, self, presence_metrics) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_CONNECT, presence_on_connect_hook, p) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_DISCONNECT, presence_on_disconnect_hook, p) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_IDENTITY, presence_on_identity_hook, p) != SBR_OK ||
        api->message_handler(self, "presence_set", presence_on_set_hook, p) != SBR_OK ||
        api->message_handler(self, "presence_snapshot", presence_on_snapshot_hook, p) != SBR_OK ||
        api->hook_register(self, SBR_EVENT_BUS_STATE, presence_on_bus_state, p) != SBR_OK ||
        api->bus_subscribe(self, PRESENCE_TOPIC, presence_on_status, p) != SBR_OK ||
        api->http_route(self, "GET", "/api/realtime/presence/{server_id}", presence_http_get, p) != SBR_OK ||
        !api->timer_start(self, refresh_ms / PRESENCE_REFRESH_SLICES ? refresh_ms / PRESENCE_REFRESH_SLICES : 1, 1,
                          presence_refresh_tick, p) ||
        !api->timer_start(self, p->beat_ms, 1, presence_beat_tick, p)) {
        api->set_error(self, "cannot register the metrics, hooks, routes and timers of presence");
        return -1;
    }
    return 0;
}

static void presence_unload(sbr_plugin *self)
{
    presence_grace_clear(&presence_state);
    presence_reap_clear(&presence_state);
    presence_table_clear(&presence_state);
    presence_gone_clear(&presence_state);
    presence_doubt_clear(&presence_state);
}

SBR_PLUGIN_DEFINE(.name = "presence", .version = "1.0.0",
                  .description = "who is online in each server, with status",
                  .config = presence_keys, .on_load = presence_load, .on_unload = presence_unload,
                  .on_check = presence_check)
