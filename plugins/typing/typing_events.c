/* typing_start, typing_stop, and the ends of a typing: a sent message,
 * leaving the channel (or its server), a disconnect, the TTL. */
#include "typing.h"
#include "chat_json.h"

#include <stdlib.h>
#include <string.h>

/* Emit a typing event about a user in a channel, except to one connection. */
static void typing_emit(struct typing *t, const char *channel_id, const char *user_id, const char *name,
                        sbr_conn_id except)
{
    struct chat_json data;
    chat_json_open(&data, t->api);
    chat_json_string(&data, "channel_id", channel_id);
    chat_json_string(&data, "user_id", user_id);
    if (strcmp(name, "typing_start") == 0)
        chat_json_int(&data, "expires_in", (int64_t)(t->ttl_ms / 1000));
    char *text = chat_json_close(&data);
    char *room = chat_format("channel:%s", channel_id);
    if (text && room)
        /* Volatile: a backed-up client can skip indicators, which expire anyway. */
        t->api->emit_room(room, name, text, except, SBR_EMIT_VOLATILE);
    free(text);
    free(room);
}

void typing_announce_end(struct typing *t, const char *channel_id, const char *user_id, sbr_conn_id except)
{
    char *key = chat_format("typing:%s", channel_id);
    if (key)
        t->api->map_del(key, user_id, chat_state_ignore, NULL);
    free(key);
    typing_emit(t, channel_id, user_id, "typing_stop", except);
}

/* Forget a local typing. */
static void typing_forget(struct typing *t, struct typing_entry *entry)
{
    if (entry->timer)
        t->api->timer_stop(t->self, entry->timer);
    typing_unlisted(t, entry);
    typing_table_remove(t, entry);
}

/* The user ended the typing (typing_stop, a message): everywhere. */
static void typing_end(struct typing *t, struct typing_entry *entry, sbr_conn_id except)
{
    typing_announce_end(t, entry->channel_id, entry->user_id, except);
    typing_forget(t, entry);
}

/* A local part of a typing that ended by itself, waiting to learn whether
 * the user still types from another worker. */
struct typing_part {
    struct typing *t;
    sbr_conn_id except;
    char *user_id;
    char channel_id[CHAT_ID_MAX + 1];
};

static void typing_part_checked(const sbr_state_reply *reply, void *userdata)
{
    struct typing_part *part = userdata;
    struct typing *t = part->t;
    const char *holder = NULL;
    for (size_t i = 0; reply->status == SBR_OK && i < reply->n; i++)
        if (strcmp(reply->fields[i], part->user_id) == 0)
            holder = reply->values[i];
    /* Typing again here meanwhile, or refreshed by another worker since. */
    int again = typing_table_find(t, part->user_id, part->channel_id) != NULL;
    int elsewhere = holder && *holder && strcmp(holder, t->worker) != 0;
    if (!again && !elsewhere)
        typing_announce_end(t, part->channel_id, part->user_id, part->except);
    free(part->user_id);
    free(part);
}

/* This worker's part of a typing ended by itself (its last typing
 * connection left or disconnected, or the TTL passed). */
static void typing_end_here(struct typing *t, struct typing_entry *entry, sbr_conn_id except)
{
    struct typing_part *part = calloc(1, sizeof *part);
    char *key = chat_format("typing:%s", entry->channel_id);
    if (part && key && (part->user_id = strdup(entry->user_id))) {
        part->t = t;
        part->except = except;
        strcpy(part->channel_id, entry->channel_id);
        if (t->api->map_get_all(key, typing_part_checked, part) == SBR_OK) {
            free(key);
            typing_forget(t, entry);
            return;
        }
    }
    if (part)
        free(part->user_id);
    free(part);
    free(key);
    typing_end(t, entry, except);
}

static void typing_expired(void *userdata)
{
    struct typing_entry *entry = userdata;
    entry->timer = 0;
    typing_end_here(entry->owner, entry, entry->n_conns ? entry->conns[0] : 0);
}

/* The user of a connection and the channel of a {"channel_id"} payload;
 * NULL when either is missing. */
static const sbr_identity *typing_who(struct typing *t, const sbr_event_message *event, char *channel_id)
{
    int ok = chat_arg_id(t->api, event->msg, "channel_id", CHAT_ID_CHANNEL, channel_id) == 0;
    return ok ? t->api->conn_identity(event->conn) : NULL;
}

/* {"ok":true,"channel_id"} and, for typing_start, "expires_in". */
static void typing_ack(struct typing *t, sbr_message *msg, const char *channel_id, int start)
{
    struct chat_json ack;
    chat_json_open(&ack, t->api);
    chat_json_bool(&ack, "ok", 1);
    chat_json_string(&ack, "channel_id", channel_id);
    if (start)
        chat_json_int(&ack, "expires_in", (int64_t)(t->ttl_ms / 1000));
    char *text = chat_json_close(&ack);
    chat_ack_text(t->api, msg, text);
    free(text);
}

int typing_on_start(struct typing *t, const sbr_event_message *event)
{
    const sbr_api *api = t->api;
    char channel_id[CHAT_ID_MAX + 1];
    if (chat_arg_id(api, event->msg, "channel_id", CHAT_ID_CHANNEL, channel_id) != 0) {
        chat_ack_error(api, event->msg, "invalid_payload");
        return SBR_CONSUME;
    }
    const sbr_identity *who = api->conn_identity(event->conn);
    char *room = chat_format("channel:%s", channel_id);
    int joined = who && room && api->room_contains(event->conn, room) == 1;
    free(room);
    if (!joined) {
        chat_ack_error(api, event->msg, "forbidden");
        return SBR_CONSUME;
    }
    struct typing_entry *entry = typing_table_find(t, who->user_id, channel_id);
    int fresh = entry == NULL;
    if (fresh)
        entry = typing_table_add(t, who->user_id, channel_id);
    if (!entry || typing_entry_add_conn(entry, event->conn) != 0) {
        if (entry && fresh)
            typing_table_remove(t, entry);
        chat_ack_error(api, event->msg, "internal");
        return SBR_CONSUME;
    }
    uint64_t now = api->now_ms();
    char *key = chat_format("typing:%s", channel_id);
    if (key)
        api->map_set(key, who->user_id, t->worker, t->ttl_ms, chat_state_ignore, NULL);
    free(key);
    typing_listed(t, entry);
    if (entry->timer)
        api->timer_stop(t->self, entry->timer);
    entry->timer = api->timer_start(t->self, t->ttl_ms, 0, typing_expired, entry);
    /* A repeat inside the window only refreshes: clients resend typing_start
     * every few seconds while the user types. */
    if (fresh || now - entry->broadcast_ms >= t->rebroadcast_ms) {
        entry->broadcast_ms = now;
        typing_emit(t, entry->channel_id, entry->user_id, "typing_start", event->conn);
    }
    typing_ack(t, event->msg, channel_id, 1);
    return SBR_CONSUME;
}

int typing_on_stop(struct typing *t, const sbr_event_message *event)
{
    char channel_id[CHAT_ID_MAX + 1];
    const sbr_identity *who = typing_who(t, event, channel_id);
    if (!who) {
        chat_ack_error(t->api, event->msg, t->api->conn_identity(event->conn) ? "invalid_payload" : "forbidden");
        return SBR_CONSUME;
    }
    struct typing_entry *entry = typing_table_find(t, who->user_id, channel_id);
    if (entry)
        typing_end(t, entry, event->conn);
    typing_ack(t, event->msg, channel_id, 0);
    return SBR_CONSUME;
}

int typing_on_end_event(struct typing *t, const sbr_event_message *event, int leaving)
{
    char channel_id[CHAT_ID_MAX + 1];
    const sbr_identity *who = typing_who(t, event, channel_id);
    struct typing_entry *entry = who ? typing_table_find(t, who->user_id, channel_id) : NULL;
    /* A message ends the user's typing; leaving ends only this connection's part. */
    if (entry && !leaving)
        typing_end(t, entry, event->conn);
    else if (entry && typing_entry_drop_conn(entry, event->conn) && entry->n_conns == 0)
        typing_end_here(t, entry, event->conn);
    return SBR_PASS;
}

static void typing_drop_conn(struct typing *t, struct typing_entry *entry, void *arg)
{
    sbr_conn_id conn = *(const sbr_conn_id *)arg;
    if (typing_entry_drop_conn(entry, conn) && entry->n_conns == 0)
        typing_end_here(t, entry, conn);
}

void typing_on_disconnect(struct typing *t, sbr_conn_id conn)
{
    typing_table_foreach(t, typing_drop_conn, &conn);
}

static void typing_drop_if_left(struct typing *t, struct typing_entry *entry, void *arg)
{
    sbr_conn_id conn = *(const sbr_conn_id *)arg;
    char *room = chat_format("channel:%s", entry->channel_id);
    int still_in = room && t->api->room_contains(conn, room) == 1;
    free(room);
    if (!still_in)
        typing_drop_conn(t, entry, arg);
}

void typing_on_rooms_left(struct typing *t, sbr_conn_id conn)
{
    typing_table_foreach(t, typing_drop_if_left, &conn);
}
