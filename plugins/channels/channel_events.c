/* join_channel, leave_channel and send_message. */
#include "channels.h"
#include "channel_record.h"
#include "chat_event.h"

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
    json_t *content; /* send_message: the content and nonce, owned */
    json_t *nonce;
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
    json_decref(call->content);
    json_decref(call->nonce);
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

/* Parse {"channel_id"}; answers invalid_payload itself and returns NULL. */
static json_t *channels_payload(struct channels *ch, const sbr_event_message *event, char *channel_id)
{
    json_t *payload = chat_event_payload(event);
    if (!payload || chat_id_read(payload, "channel_id", CHAT_ID_CHANNEL, channel_id) != 0) {
        json_decref(payload);
        chat_ack_error(ch->api, event->msg, "invalid_payload");
        return NULL;
    }
    return payload;
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
    json_t *payload = channels_payload(ch, event, channel_id);
    if (!payload)
        return SBR_CONSUME;
    json_decref(payload);
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
    json_t *payload = channels_payload(ch, event, channel_id);
    if (!payload)
        return SBR_CONSUME;
    json_decref(payload);
    char *room = chat_format("channel:%s", channel_id);
    if (room)
        ch->api->room_leave(event->conn, room);
    free(room);
    channel_joins_remove(&ch->joins, event->conn, channel_id);
    chat_ack(ch->api, event->msg, json_pack("{s:b, s:s}", "ok", 1, "channel_id", channel_id));
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

static void channels_send_found(int found, const struct channel_record *record, void *userdata)
{
    struct channels_call *call = userdata;
    struct channels *ch = call->ch;
    if (channels_call_check(call, found, record) != 0) {
        channels_call_free(call);
        return;
    }
    const sbr_identity *who = ch->api->conn_identity(call->conn);
    char id[MESSAGE_ID_TEXT_MAX];
    message_id_next(&ch->ids, id);
    json_int_t ts = (json_int_t)ch->api->now_ms();
    char *room = chat_format("channel:%s", call->channel_id);
    char *text = chat_json_dump(json_pack("{s:s, s:s, s:s, s:O, s:O, s:I}", "id", id, "channel_id",
                                          call->channel_id, "user_id", who->user_id, "content",
                                          call->content, "nonce", call->nonce, "ts", ts));
    if (!room || !text || ch->api->emit_room(room, "message", text, 0, 0) != SBR_OK) {
        chat_ack_error(ch->api, call->msg, "unavailable");
    } else {
        ch->api->metric_add(ch->self, "superbot_messages_sent_total", NULL, 1);
        chat_ack(ch->api, call->msg,
                 json_pack("{s:b, s:s, s:s, s:O, s:I}", "ok", 1, "id", id, "channel_id", call->channel_id,
                           "nonce", call->nonce, "ts", ts));
    }
    free(room);
    free(text);
    channels_call_free(call);
}

/* content: a string of 1..max characters; nonce: absent, null, a short
 * string or a number. */
static int channels_send_valid(struct channels *ch, json_t *payload)
{
    json_t *content = json_object_get(payload, "content");
    if (!json_is_string(content))
        return 0;
    size_t chars = channels_utf8_length(json_string_value(content), json_string_length(content));
    if (chars == 0 || (int64_t)chars > ch->max_content_length)
        return 0;
    json_t *nonce = json_object_get(payload, "nonce");
    if (json_is_string(nonce))
        return json_string_length(nonce) <= CHANNELS_NONCE_MAX;
    return !nonce || json_is_null(nonce) || json_is_number(nonce);
}

int channels_send(struct channels *ch, const sbr_event_message *event)
{
    char channel_id[CHAT_ID_MAX + 1];
    json_t *payload = channels_payload(ch, event, channel_id);
    if (!payload)
        return SBR_CONSUME;
    if (!channels_send_valid(ch, payload)) {
        json_decref(payload);
        chat_ack_error(ch->api, event->msg, "invalid_payload");
        return SBR_CONSUME;
    }
    struct channels_call *call = channels_call_new(ch, event, channel_id);
    if (!call) {
        json_decref(payload);
        chat_ack_error(ch->api, event->msg, "internal");
        return SBR_CONSUME;
    }
    call->content = json_incref(json_object_get(payload, "content"));
    json_t *nonce = json_object_get(payload, "nonce");
    call->nonce = nonce ? json_incref(nonce) : json_null();
    json_decref(payload);
    return channels_call_lookup(call, channels_send_found);
}
