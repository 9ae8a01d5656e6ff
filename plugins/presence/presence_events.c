/* presence_set and presence_snapshot. */
#include "presence.h"
#include "chat_json.h"

#include <stdlib.h>
#include <string.h>

json_t *presence_members(const sbr_state_reply *reply)
{
    json_t *members = json_array();
    for (size_t i = 0; members && i < reply->n; i++) {
        const char *status = reply->values[i];
        if (!presence_status_valid(status) || strcmp(status, "invisible") == 0)
            continue;
        json_array_append_new(members, json_pack("{s:s, s:s}", "user_id", reply->fields[i], "status", status));
    }
    return members;
}

int presence_on_set(struct presence *p, const sbr_event_message *event)
{
    const sbr_api *api = p->api;
    struct presence_conn *rec = presence_table_find(p, event->conn);
    if (!rec) {
        chat_ack_error(api, event->msg, "forbidden");
        return SBR_CONSUME;
    }
    char status[PRESENCE_STATUS_MAX];
    int n = api->msg_arg_string(event->msg, 0, "status", status, sizeof status);
    if (n == SBR_ERR_INVALID || n == SBR_ERR_GONE) {
        chat_ack_error(api, event->msg, "invalid_payload");
        return SBR_CONSUME;
    }
    if (n < 0 || (size_t)n >= sizeof status || strlen(status) != (size_t)n || !presence_status_valid(status)) {
        chat_ack_error(api, event->msg, "invalid_status");
        return SBR_CONSUME;
    }
    int shown_changed = strcmp(presence_status_shown(rec->status), presence_status_shown(status)) != 0;
    /* This worker at once, so the ack reflects it; every worker (this one
     * again, harmlessly) through the topic. */
    struct chat_json j;
    chat_json_open(&j, api);
    chat_json_string(&j, "user_id", rec->user_id);
    chat_json_string(&j, "status", status);
    char *change = chat_json_close(&j);
    if (change) {
        presence_on_status(PRESENCE_TOPIC, change, strlen(change), p);
        api->bus_publish(PRESENCE_TOPIC, change, strlen(change));
    }
    free(change);
    /* presence_on_status updated rec (it is one of the user's connections). */
    presence_publish_servers(p, rec, p->ttl_ms);
    if (shown_changed)
        presence_announce(p, rec, presence_status_shown(status));
    chat_json_open(&j, api);
    chat_json_bool(&j, "ok", 1);
    chat_json_string(&j, "status", status);
    char *ack = chat_json_close(&j);
    chat_ack_text(api, event->msg, ack);
    free(ack);
    return SBR_CONSUME;
}

struct presence_snapshot {
    struct presence *p;
    sbr_message *msg;
    char server_id[CHAT_ID_MAX + 1];
};

static void presence_snapshot_read(const sbr_state_reply *reply, void *userdata)
{
    struct presence_snapshot *snap = userdata;
    const sbr_api *api = snap->p->api;
    if (reply->status != SBR_OK)
        chat_ack_error(api, snap->msg, "unavailable");
    else
        chat_ack(api, snap->msg,
                 json_pack("{s:b, s:s, s:o}", "ok", 1, "server_id", snap->server_id, "members",
                           presence_members(reply)));
    free(snap);
}

int presence_on_snapshot(struct presence *p, const sbr_event_message *event)
{
    const sbr_api *api = p->api;
    char server_id[CHAT_ID_MAX + 1];
    if (chat_arg_id(api, event->msg, "server_id", CHAT_ID_SERVER_OR_USER, server_id) != 0) {
        chat_ack_error(api, event->msg, "invalid_payload");
        return SBR_CONSUME;
    }
    const sbr_identity *who = api->conn_identity(event->conn);
    if (!who || !chat_list_has(who->servers, who->n_servers, server_id)) {
        chat_ack_error(api, event->msg, "forbidden");
        return SBR_CONSUME;
    }
    struct presence_snapshot *snap = malloc(sizeof *snap);
    char *key = chat_format("presence:server:%s", server_id);
    int rc = SBR_ERR_NOMEM;
    if (snap && key) {
        snap->p = p;
        snap->msg = event->msg;
        strcpy(snap->server_id, server_id);
        rc = api->map_get_all(key, presence_snapshot_read, snap);
    }
    free(key);
    if (rc != SBR_OK) {
        free(snap);
        chat_ack_error(api, event->msg, "unavailable");
    }
    return SBR_CONSUME;
}
