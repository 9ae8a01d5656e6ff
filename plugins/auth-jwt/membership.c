/* Live memberships on this worker.  A change made through the server API
 * reaches every worker on the topic "auth.membership"; each applies it to
 * its sockets of the user by replacing their identity.  The core then
 * raises SBR_EVENT_IDENTITY, on which this plugin (first in conf.d order)
 * moves the socket between server rooms and tells the client, and the
 * other plugins follow (presence announces, channels leaves the server's
 * channels, typing ends there, slow mode reads the moderators anew). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth.h"

#define USER_ROOM_PREFIX "user:"

void membership_identity_of(const struct token_claims *claims, sbr_identity *out)
{
    *out = (sbr_identity){
        .struct_size = sizeof(*out),
        .user_id = claims->sub,
        .session_id = claims->sid,
        .servers = (const char *const *)claims->servers,
        .n_servers = claims->n_servers,
        .moderates = (const char *const *)claims->moderates,
        .n_moderates = claims->n_moderates,
        .expires_at = claims->exp,
    };
}

/* One change, as published: {"user_id", "server_id", "member", "moderator"}. */
struct membership_change {
    const char *user_id;
    const char *server_id;
    int member;
    int moderator;
};

int auth_list_has(const char *const *list, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], id) == 0)
            return 1;
    return 0;
}

/* list[0..n) with id added (when `in` and absent) or removed (when not `in`),
 * into out (room for n + 1); returns the new count. */
static size_t list_with(const char *const *list, size_t n, const char *id, int in, const char **out)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (in || strcmp(list[i], id) != 0)
            out[count++] = list[i];
    if (in && !auth_list_has(list, n, id))
        out[count++] = id;
    return count;
}

/* Apply the change to one socket: a new identity when it changes something. */
static void membership_apply(struct auth *auth, sbr_conn_id conn, const struct membership_change *change)
{
    const sbr_identity *who = auth->api->conn_identity(conn);
    if (!who || strcmp(who->user_id, change->user_id) != 0)
        return;
    int moderates = change->member && change->moderator;
    if (auth_list_has(who->servers, who->n_servers, change->server_id) == change->member &&
        auth_list_has(who->moderates, who->n_moderates, change->server_id) == moderates)
        return; /* a repeated call: nothing to tell anyone */
    const char **servers = malloc((who->n_servers + 1) * sizeof(*servers));
    const char **mods = malloc((who->n_moderates + 1) * sizeof(*mods));
    sbr_identity next = *who;
    int rc = SBR_ERR_NOMEM;
    if (servers && mods) {
        next.n_servers = list_with(who->servers, who->n_servers, change->server_id, change->member, servers);
        next.n_moderates = list_with(who->moderates, who->n_moderates, change->server_id, moderates, mods);
        next.servers = servers;
        next.moderates = mods;
        rc = auth->api->conn_set_identity(conn, &next);
    }
    if (rc != SBR_OK)
        auth->api->log(auth->self, SBR_LOG_ERROR, "connection %llu: could not apply a membership change (%d)",
                       (unsigned long long)conn, rc);
    free(servers);
    free(mods);
}

static int membership_parse(json_t *doc, struct membership_change *change)
{
    change->user_id = json_string_value(json_object_get(doc, "user_id"));
    change->server_id = json_string_value(json_object_get(doc, "server_id"));
    change->member = json_is_true(json_object_get(doc, "member"));
    change->moderator = json_is_true(json_object_get(doc, "moderator"));
    return change->user_id && change->server_id && token_id_valid(change->user_id, strlen(change->user_id)) &&
                   token_id_valid(change->server_id, strlen(change->server_id))
               ? 0
               : -1;
}

void membership_bus_message(const char *topic, const char *data, size_t len, void *userdata)
{
    struct auth *auth = userdata;
    json_t *doc = json_loadb(data, len, 0, NULL);
    struct membership_change change;
    if (!doc || membership_parse(doc, &change) != 0) {
        json_decref(doc);
        return;
    }
    /* A token still being checked must not bring the server back either. */
    if (!change.member)
        check_drop_server(auth, change.user_id, change.server_id);
    struct auth_conns list;
    auth_room_members(auth, USER_ROOM_PREFIX, change.user_id, strlen(change.user_id), &list);
    if (list.failed)
        auth->api->log(auth->self, SBR_LOG_ERROR, "out of memory: a membership change misses some sockets");
    for (size_t i = 0; i < list.n; i++)
        membership_apply(auth, list.ids[i], &change);
    free(list.ids);
    json_decref(doc);
}

/* --- SBR_EVENT_IDENTITY ------------------------------------------------------- */

static void membership_tell(struct auth *auth, sbr_conn_id conn, const char *event, const char *server_id)
{
    json_t *obj = json_pack("{s:s}", "server_id", server_id);
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (text)
        auth->api->emit(conn, event, text, 0);
    free(text);
    json_decref(obj);
}

int membership_identity_hook(enum sbr_event_id id, void *event, void *userdata)
{
    struct auth *auth = userdata;
    const sbr_event_identity *ev = event;
    const sbr_api *api = auth->api;
    for (size_t i = 0; i < ev->n_servers_removed; i++) {
        auth_room_leave(auth, ev->conn, "server:", ev->servers_removed[i]);
        membership_tell(auth, ev->conn, "server_left", ev->servers_removed[i]);
    }
    for (size_t i = 0; i < ev->n_servers_added; i++) {
        auth_room_join(auth, ev->conn, "server:", ev->servers_added[i]);
        membership_tell(auth, ev->conn, "server_joined", ev->servers_added[i]);
    }
    if (!ev->previous->session_id && ev->current->session_id)
        auth_room_join(auth, ev->conn, "session:", ev->current->session_id);
    expiry_track(auth, ev->conn, ev->current->expires_at);
    if (auth->settings.end_when_no_servers && ev->previous->n_servers > 0 && ev->current->n_servers == 0 &&
        api->conn_end(ev->conn, "removed") == SBR_OK)
        api->metric_add(auth->self, "superbot_auth_removed_disconnects_total", NULL, 1);
    return 0;
}
