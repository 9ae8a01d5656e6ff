/* send_message: the sender's slot in the channel, before typing and
 * channels see the message. */
#include "slowmode.h"
#include "chat_json.h"

#include <stdlib.h>
#include <string.h>

static void slowmode_send_admit(struct slowmode_call *call)
{
    call->sm->api->message_resume(call->msg, SBR_PASS, NULL);
}

static void slowmode_send_refuse(struct slowmode_call *call, int64_t remaining_ms)
{
    call->sm->api->metric_add(call->sm->self, "superbot_slow_mode_refused_total", "via=\"socket\"", 1);
    struct chat_json j;
    chat_json_open(&j, call->sm->api);
    chat_json_bool(&j, "ok", 0);
    chat_json_string(&j, "error", "slow_mode");
    chat_json_int(&j, "status", 429);
    chat_json_real(&j, "retry_after", (double)remaining_ms / 1000.0);
    char *text = chat_json_close(&j);
    chat_ack_text(call->sm->api, call->msg, text);
    free(text);
}

static void slowmode_send_looked_up(struct slowmode_call *call, int found)
{
    const sbr_api *api = call->sm->api;
    if (found < 0) {
        chat_ack_error(api, call->msg, "unavailable");
    } else if (found == 0) {
        chat_ack_error(api, call->msg, "unknown_channel");
    } else {
        const sbr_identity *who = api->conn_alive(call->conn) ? api->conn_identity(call->conn) : NULL;
        const char *server = call->record.server_id;
        if (!who || !chat_list_has(who->servers, who->n_servers, server)) {
            /* Refused here so that a non-member never uses up a slot. */
            chat_ack_error(api, call->msg, "forbidden");
        } else if (chat_list_has(who->moderates, who->n_moderates, server)) {
            api->message_resume(call->msg, SBR_PASS, NULL);
        } else {
            slowmode_reserve(call);
            return;
        }
    }
    slowmode_call_free(call);
}

int slowmode_on_send(struct slowmode *sm, sbr_event_message *event)
{
    const sbr_api *api = sm->api;
    const sbr_identity *who = api->conn_identity(event->conn);
    struct slowmode_call *call = calloc(1, sizeof *call);
    /* A payload channels would refuse must not use up a slot either. */
    int valid = call && chat_arg_id(api, event->msg, "channel_id", CHAT_ID_CHANNEL, call->channel_id) == 0 &&
                api->msg_arg_string(event->msg, 0, "content", NULL, 0) > 0;
    if (!valid || !who) {
        free(call);
        event->reason = !call ? "internal" : !who ? "forbidden" : "invalid_payload";
        return SBR_REFUSE;
    }
    call->sm = sm;
    call->conn = event->conn;
    call->msg = event->msg;
    call->user_id = strdup(who->user_id);
    call->looked_up = slowmode_send_looked_up;
    call->admit = slowmode_send_admit;
    call->refuse = slowmode_send_refuse;
    if (!call->user_id || slowmode_lookup(call) != 0) {
        slowmode_call_free(call);
        event->reason = "unavailable";
        return SBR_REFUSE;
    }
    return SBR_PENDING;
}
