/* The rooms auth-jwt puts sockets in ("user:<id>", "server:<id>",
 * "session:<sid>") and the local members of one, gathered before they are
 * acted on (room_foreach forbids changing the room it walks). */
#include <stdio.h>
#include <stdlib.h>

#include "auth.h"

int auth_room_join(const struct auth *auth, sbr_conn_id conn, const char *prefix, const char *id)
{
    char room[ROOM_NAME_MAX];
    snprintf(room, sizeof(room), "%s%s", prefix, id);
    return auth->api->room_join(conn, room);
}

int auth_room_leave(const struct auth *auth, sbr_conn_id conn, const char *prefix, const char *id)
{
    char room[ROOM_NAME_MAX];
    snprintf(room, sizeof(room), "%s%s", prefix, id);
    return auth->api->room_leave(conn, room);
}

static void auth_conns_add(sbr_conn_id conn, void *userdata)
{
    struct auth_conns *list = userdata;
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        sbr_conn_id *ids = realloc(list->ids, cap * sizeof(*ids));
        if (!ids) {
            list->failed = 1;
            return;
        }
        list->ids = ids;
        list->cap = cap;
    }
    list->ids[list->n++] = conn;
}

void auth_room_members(const struct auth *auth, const char *prefix, const char *id, size_t id_len,
                       struct auth_conns *out)
{
    char room[ROOM_NAME_MAX];
    *out = (struct auth_conns){0};
    snprintf(room, sizeof(room), "%s%.*s", prefix, (int)id_len, id);
    auth->api->room_foreach(room, auth_conns_add, out);
}
