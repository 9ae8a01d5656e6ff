/* join_channel, leave_channel and send_message. */
#include "channels.h"
#include "channel_record.h"
#include "chat_event.h"
#include "chat_json.h"

#include <stdlib.h>
#include <string.h>

/* Longest nonce string a client may attach to a message. */
#define CHANNELS_NONCE_MAX 128

/* One client event waiting on shared state. */
struct channels_call {
    struct channels *ch;
    sbr_conn_id conn;
    sbr_message *msg;
    char channel_id[CHAT_ID_MAX + 1];
    struct channel_record record;
};

static struct channels_call *channels_call_new(struct channels *ch, const sbr_event_message *event,
                                               const char *channel_id)
{
    struct channels_call *call = calloc(1, sizeof *call);
    if (!call)
        return NULL;
    call->ch = ch;
    call->conn = event->conn;
    call->msg = event->msg;
    strcpy(call->channel_id, channel_id);
    return call;
}

static void channels_call_free(struct channels_call *call)
{
    free(call);
}

/* Check a looked-up channel.  Answers the ack and returns -1 when the call
 * cannot go on: backend failure, unknown channel, the connection gone, or a
 * user who is not a member of the channel's server. */
static int channels_call_check(struct channels_call *call, int found, const struct channel_record *record)
{
    const sbr_api *api = call->ch->api;
    if (found < 0) {
        chat_ack_error(api, call->msg, "unavailable");
        return -1;
    }
    if (found == 0) {
        chat_ack_error(api, call->msg, "unknown_channel");
        return -1;
    }
    call->record = *record;
    const sbr_identity *who = api->conn_alive(call->conn) ? api->conn_identity(call->conn) : NULL;
    if (!who || !chat_list_has(who->servers, who->n_servers, call->record.server_id)) {
        chat_ack_error(api, call->msg, "forbidden");
        return -1;
    }
    return 0;
}

/* Look the channel up, then run `then`.  Returns the verdict of the hook. */
static int channels_call_lookup(struct channels_call *call, channel_lookup_fn then)
{
    struct channels *ch = call->ch;
    if (channel_lookup(ch->api, &ch->cache, call->channel_id, then, call) != SBR_OK) {
        chat_ack_error(ch->api, call->msg, "unavailable");
        channels_call_free(call);
    }
    return SBR_CONSUME;
}

/* Read {"channel_id"}; answers invalid_payload itself and returns -1. */
static int channels_payload(struct channels *ch, const sbr_event_message *event, char *channel_id)
{
    if (chat_arg_id(ch->api, event->msg, "channel_id", CHAT_ID_CHANNEL, channel_id) != 0) {
        chat_ack_error(ch->api, event->msg, "invalid_payload");
        return -1;
    }
    return 0;
}

/* --- join_channel ---------------------------------------------------------- */

static void channels_join_typing(const sbr_state_reply *reply, void *userdata)
{
    struct channels_call *call = userdata;
    json_t *typing = json_array();
    if (reply->status == SBR_OK)
        for (size_t i = 0; i < reply->n; i++)
            json_array_append_new(typing, json_string(reply->fields[i]));
    chat_ack(call->ch->api, call->msg,
             json_pack("{s:b, s:s, s:s, s:I, s:o}", "ok", 1, "channel_id", call->channel_id, "server_id",
                       call->record.server_id, "slow_mode", (json_int_t)call->record.slow_mode, "typing",
                       typing));
    channels_call_free(call);
}

static void channels_join_found(int found, const struct channel_record *record, void *userdata)
{
    struct channels_call *call = userdata;
    const sbr_api *api = call->ch->api;
    if (channels_call_check(call, found, record) != 0) {
        channels_call_free(call);
        return;
    }
    char *room = chat_format("channel:%s", call->channel_id);
    char *typing_key = chat_format("typing:%s", call->channel_id);
    if (!room || !typing_key || api->room_join(call->conn, room) != SBR_OK) {
        chat_ack_error(api, call->msg, "unavailable");
        channels_call_free(call);
    } else if (channel_joins_add(&call->ch->joins, call->conn, call->channel_id, call->record.server_id) != 0) {
        /* Untracked, it would stay in the channel after leaving the server. */
        api->room_leave(call->conn, room);
        chat_ack_error(api, call->msg, "internal");
        channels_call_free(call);
    } else if (api->map_get_all(typing_key, channels_join_typing, call) != SBR_OK) {
        chat_ack_error(api, call->msg, "unavailable");
        channels_call_free(call);
    }
    free(room);
    free(typing_key);
}

int channels_join(struct channels *ch, const sbr_event_message *event)
{
    char channel_id[CHAT_ID_MAX + 1];
    if (channels_payload(ch, event, channel_id) != 0)
        return SBR_CONSUME;
    struct channels_call *call = channels_call_new(ch, event, channel_id);
    if (!call) {
        chat_ack_error(ch->api, event->msg, "internal");
        return SBR_CONSUME;
    }
    return channels_call_lookup(call, channels_join_found);
}

/* --- leave_channel --------------------------------------------------------- */

int channels_leave(struct channels *ch, const sbr_event_message *event)
{
    char channel_id[CHAT_ID_MAX + 1];
    if (channels_payload(ch, event, channel_id) != 0)
        return SBR_CONSUME;
    char *room = chat_format("channel:%s", channel_id);
    if (room)
        ch->api->room_leave(event->conn, room);
    free(room);
    channel_joins_remove(&ch->joins, event->conn, channel_id);
    struct chat_json ack;
    chat_json_open(&ack, ch->api);
    chat_json_bool(&ack, "ok", 1);
    chat_json_string(&ack, "channel_id", channel_id);
    char *text = chat_json_close(&ack);
    chat_ack_text(ch->api, event->msg, text);
    free(text);
    return SBR_CONSUME;
}

/* --- a server left ------------------------------------------------------------- */

static void channels_leave_room(sbr_conn_id conn, const char *channel_id, void *arg)
{
    const struct channels *ch = arg;
    char *room = chat_format("channel:%s", channel_id);
    if (room)
        ch->api->room_leave(conn, room);
    free(room);
}

void channels_identity_changed(struct channels *ch, const sbr_event_identity *event)
{
    for (size_t i = 0; i < event->n_servers_removed; i++)
        channel_joins_take_server(&ch->joins, event->conn, event->servers_removed[i], channels_leave_room, ch);
}

/* --- send_message ---------------------------------------------------------- */

static size_t channels_utf8_length(const char *s, size_t bytes)
{
    size_t n = 0;
    for (size_t i = 0; i < bytes; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* The message event, {"id","channel_id","user_id","content","nonce","ts"},
 * and its ack, {"ok":true,"id","channel_id","nonce","ts"}: content and
 * nonce as the client's JSON, re-encoded once by the host. */
static void channels_send_texts(struct channels_call *call, const char *user_id, char **event, char **ack)
{
    const sbr_api *api = call->ch->api;
    char id[MESSAGE_ID_TEXT_MAX];
    message_id_next(&call->ch->ids, id);
    int64_t ts = (int64_t)api->now_ms();
    char *content = chat_arg_json(api, call->msg, "content");
    char *nonce = chat_arg_json(api, call->msg, "nonce");
    struct chat_json j;
    chat_json_open(&j, api);
    chat_json_string(&j, "id", id);
    chat_json_string(&j, "channel_id", call->channel_id);
    chat_json_string(&j, "user_id", user_id);
    chat_json_raw(&j, "content", content ? content : "null");
    chat_json_raw(&j, "nonce", nonce ? nonce : "null");
    chat_json_int(&j, "ts", ts);
    *event = chat_json_close(&j);
    if (!content) { /* validated before: only memory can be short */
        free(*event);
        *event = NULL;
    }
    chat_json_open(&j, api);
    chat_json_bool(&j, "ok", 1);
    chat_json_string(&j, "id", id);
    chat_json_string(&j, "channel_id", call->channel_id);
    chat_json_raw(&j, "nonce", nonce ? nonce : "null");
    chat_json_int(&j, "ts", ts);
    *ack = chat_json_close(&j);
    free(content);
    free(nonce);
}

static void channels_send_found(int found, const struct channel_record *record, void *userdata)
{
    struct channels_call *call = userdata;
    struct channels *ch = call->ch;
    if (channels_call_check(call, found, record) != 0) {
        channels_call_free(call);
        return;
    }
    const sbr_identity *who = ch->api->conn_identity(call->conn);
    char *text = NULL, *ack = NULL;
    channels_send_texts(call, who->user_id, &text, &ack);
    char *room = chat_format("channel:%s", call->channel_id);
    if (!room || !text || !ack || ch->api->emit_room(room, "message", text, 0, 0) != SBR_OK) {
        chat_ack_error(ch->api, call->msg, "unavailable");
    } else {
        ch->api->metric_add(ch->self, "superbot_messages_sent_total", NULL, 1);
        chat_ack_text(ch->api, call->msg, ack);
    }
    free(room);
    free(text);
    free(ack);
    channels_call_free(call);
}

/* The characters of a string field (a NUL counts as one), or 0 when it is
 * absent, empty or not a string. */
static size_t channels_arg_chars(const sbr_api *api, sbr_message *msg, const char *field)
{
    int n = api->msg_arg_string(msg, 0, field, NULL, 0);
    char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
    size_t chars = s && api->msg_arg_string(msg, 0, field, s, (size_t)n + 1) == n ? channels_utf8_length(s, (size_t)n) : 0;
    free(s);
    return chars;
}

/* content: a string of 1..max characters; nonce: absent, null, a short
 * string or a number. */
static int channels_send_valid(struct channels *ch, sbr_message *msg)
{
    const sbr_api *api = ch->api;
    size_t chars = channels_arg_chars(api, msg, "content");
    if (chars == 0 || (int64_t)chars > ch->max_content_length)
        return 0;
    char *nonce = chat_arg_json(api, msg, "nonce");
    if (!nonce)
        return 1; /* absent */
    int ok;
    if (nonce[0] == '"') {
        int bytes = api->msg_arg_string(msg, 0, "nonce", NULL, 0);
        ok = bytes >= 0 && bytes <= CHANNELS_NONCE_MAX;
    } else {
        ok = strcmp(nonce, "null") == 0 || nonce[0] == '-' || (nonce[0] >= '0' && nonce[0] <= '9');
    }
    free(nonce);
    return ok;
}

int channels_send(struct channels *ch, const sbr_event_message *event)
{
    char channel_id[CHAT_ID_MAX + 1];
    if (channels_payload(ch, event, channel_id) != 0)
        return SBR_CONSUME;
    if (!channels_send_valid(ch, event->msg)) {
        chat_ack_error(ch->api, event->msg, "invalid_payload");
        return SBR_CONSUME;
    }
    struct channels_call *call = channels_call_new(ch, event, channel_id);
    if (!call) {
        chat_ack_error(ch->api, event->msg, "internal");
        return SBR_CONSUME;
    }
    return channels_call_lookup(call, channels_send_found);
}
