/* POST /api/realtime/channels/{channel_id}/reserve {"user_id"}: the
 * backend's reserve_channel_message_slot. */
#include "slowmode.h"
#include "chat_http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void slowmode_http_admit(struct slowmode_call *call)
{
    chat_http_reply(call->sm->api, call->req, 200, json_pack("{s:b}", "ok", 1), NULL);
}

static void slowmode_http_refuse(struct slowmode_call *call, int64_t remaining_ms)
{
    char header[48];
    call->sm->api->metric_add(call->sm->self, "superbot_slow_mode_refused_total", "via=\"api\"", 1);
    /* Retry-After takes whole seconds: round up so a client that obeys it is admitted. */
    snprintf(header, sizeof header, "Retry-After: %" PRId64, (remaining_ms + 999) / 1000);
    chat_http_reply(call->sm->api, call->req, 429,
                    json_pack("{s:s, s:f}", "error", "slow_mode", "retry_after", (double)remaining_ms / 1000.0),
                    header);
}

static void slowmode_http_looked_up(struct slowmode_call *call, int found)
{
    if (found < 0)
        chat_http_error(call->sm->api, call->req, 503, "unavailable");
    else if (found == 0)
        chat_http_error(call->sm->api, call->req, 404, "unknown_channel");
    else {
        slowmode_reserve(call);
        return;
    }
    slowmode_call_free(call);
}

void slowmode_http_reserve(sbr_http_request *req, void *userdata)
{
    struct slowmode *sm = userdata;
    const sbr_api *api = sm->api;
    json_t *body = chat_http_begin(api, req);
    if (!body)
        return;
    const char *channel_id = api->http_param(req, "channel_id");
    char user_id[CHAT_ID_MAX + 1];
    const char *problem = NULL;
    if (!channel_id || !chat_id_valid(channel_id, CHAT_ID_CHANNEL))
        problem = "channel_id must be 1 to 128 characters of [A-Za-z0-9_.-]";
    else if (chat_id_read(body, "user_id", CHAT_ID_SERVER_OR_USER, user_id) != 0)
        problem = "user_id must be a string of 1 to 128 bytes without control characters";
    json_decref(body);
    if (problem) {
        chat_http_invalid(api, req, problem);
        return;
    }
    struct slowmode_call *call = calloc(1, sizeof *call);
    if (call)
        call->user_id = strdup(user_id);
    if (!call || !call->user_id) {
        free(call);
        chat_http_error(api, req, 500, "internal");
        return;
    }
    call->sm = sm;
    call->req = req;
    strcpy(call->channel_id, channel_id);
    call->looked_up = slowmode_http_looked_up;
    call->admit = slowmode_http_admit;
    call->refuse = slowmode_http_refuse;
    if (slowmode_lookup(call) != 0) {
        slowmode_call_free(call);
        chat_http_error(api, req, 503, "unavailable");
    }
}
