/* The slowmode plugin: descriptor, hook dispatch and the reservation. */
#include "slowmode.h"

#include <stdlib.h>
#include <string.h>

static struct slowmode slowmode_state;

void slowmode_call_free(struct slowmode_call *call)
{
    free(call->user_id);
    free(call);
}

static void slowmode_found(int found, const struct channel_record *record, void *userdata)
{
    struct slowmode_call *call = userdata;
    if (found == 1)
        call->record = *record;
    call->looked_up(call, found);
}

int slowmode_lookup(struct slowmode_call *call)
{
    struct slowmode *sm = call->sm;
    return channel_lookup(sm->api, &sm->cache, call->channel_id, slowmode_found, call) == SBR_OK ? 0 : -1;
}

static void slowmode_reserved(const sbr_state_reply *reply, void *userdata)
{
    struct slowmode_call *call = userdata;
    if (reply->status != SBR_OK || reply->acquired)
        /* A backend failure lets the message through: slow mode is a courtesy
         * limit, and a message lost to an outage is worse. */
        call->admit(call);
    else
        call->refuse(call, reply->remaining_ms > 0 ? reply->remaining_ms : 1);
    slowmode_call_free(call);
}

void slowmode_reserve(struct slowmode_call *call)
{
    const sbr_api *api = call->sm->api;
    if (call->record.slow_mode <= 0) {
        call->admit(call);
        slowmode_call_free(call);
        return;
    }
    char *key = chat_format("slowmode:%s:%s", call->channel_id, call->user_id);
    int rc = key ? api->reserve(key, (uint64_t)call->record.slow_mode * 1000u, slowmode_reserved, call)
                 : SBR_ERR_NOMEM;
    free(key);
    if (rc != SBR_OK) {
        call->admit(call);
        slowmode_call_free(call);
    }
}

static int slowmode_on_send_hook(enum sbr_event_id id, void *event, void *userdata)
{
    return slowmode_on_send(userdata, event);
}

static const char *const slowmode_via_labels[] = {"via=\"socket\"", "via=\"api\"", NULL};
static const sbr_metric_def slowmode_metrics[] = {
    {"superbot_slow_mode_refused_total", SBR_METRIC_COUNTER,
     "Messages refused by slow mode, from sockets (send_message) and the reserve API", slowmode_via_labels},
    {NULL, 0, NULL, NULL},
};

static int slowmode_load(sbr_plugin *self, const sbr_api *api)
{
    struct slowmode *sm = &slowmode_state;
    memset(sm, 0, sizeof *sm);
    sm->self = self;
    sm->api = api;
    if (!chat_services_present(self, api))
        return -1;
    if (sbr_metrics_declare(api, self, slowmode_metrics) != SBR_OK ||
        api->message_filter(self, "send_message", slowmode_on_send_hook, sm) != SBR_OK ||
        api->http_route(self, "POST", "/api/realtime/channels/{channel_id}/reserve", slowmode_http_reserve,
                        sm) != SBR_OK) {
        api->set_error(self, "cannot register the metrics, hooks and routes of slowmode");
        return -1;
    }
    return 0;
}

static void slowmode_unload(sbr_plugin *self)
{
    channel_cache_clear(&slowmode_state.cache);
}

SBR_PLUGIN_DEFINE(.name = "slowmode", .version = "1.0.0",
                  .description = "per-user cooldown per channel (settings.slow_mode)",
                  .on_load = slowmode_load, .on_unload = slowmode_unload)
