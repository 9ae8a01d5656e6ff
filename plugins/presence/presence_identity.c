/* Memberships that change while the user is connected (SBR_EVENT_IDENTITY:
 * the server API, a refreshed token).  A server joined gets the user in its
 * map and, if that is news, one presence_update with the user's status; a
 * server left loses them and, if they were there, one `offline`.  The
 * shared map says whether it is news, so a user with sockets on several
 * workers (each told of the change) is announced once. */
#include "presence.h"

#include <stdlib.h>
#include <string.h>

struct presence_membership {
    struct presence *p;
    char *user_id;
    char server_id[CHAT_ID_MAX + 1];
    char shown[PRESENCE_STATUS_MAX]; /* what the members see if it is news */
};

static void presence_membership_done(const sbr_state_reply *reply, void *userdata)
{
    struct presence_membership *m = userdata;
    if (reply->status == SBR_OK && reply->changed)
        presence_announce_one(m->p, m->server_id, m->user_id, m->shown);
    free(m->user_id);
    free(m);
}

/* Put the user in (joined) or take them out of a server's map, and announce it when it is news. */
static void presence_membership_write(struct presence *p, const struct presence_conn *rec, const char *server_id,
                                      int joined)
{
    struct presence_membership *m = calloc(1, sizeof *m);
    char *key = chat_format("presence:server:%s", server_id);
    int rc = SBR_ERR_NOMEM;
    if (m && key && (m->user_id = strdup(rec->user_id))) {
        m->p = p;
        strcpy(m->server_id, server_id);
        strcpy(m->shown, joined ? rec->status : "offline");
        rc = joined ? p->api->map_set(key, rec->user_id, rec->status, p->ttl_ms, presence_membership_done, m)
                    : p->api->map_del(key, rec->user_id, presence_membership_done, m);
    }
    free(key);
    if (rc != SBR_OK) {
        if (m)
            free(m->user_id);
        free(m);
    }
}

/* The user's other local connections, found in one walk of the table
 * whatever the number of servers left. */
struct presence_siblings {
    const struct presence_conn *rec;
    const struct presence_conn **found;
    size_t n, cap;
};

static void presence_sibling_check(struct presence *p, struct presence_conn *other, void *arg)
{
    struct presence_siblings *s = arg;
    if (other == s->rec || strcmp(other->user_id, s->rec->user_id) != 0)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        const struct presence_conn **grown = realloc(s->found, cap * sizeof *grown);
        if (!grown)
            return;
        s->found = grown;
        s->cap = cap;
    }
    s->found[s->n++] = other;
}

/* 1 if another local connection of the user still keeps them in the server
 * (a token refreshed on one tab only). */
static int presence_kept_elsewhere(const struct presence_siblings *s, const char *server_id)
{
    for (size_t i = 0; i < s->n; i++)
        if (chat_list_has((const char *const *)s->found[i]->servers, s->found[i]->n_servers, server_id))
            return 1;
    return 0;
}

void presence_on_identity(struct presence *p, const sbr_event_identity *event)
{
    struct presence_conn *rec = presence_table_find(p, event->conn);
    if (!rec || presence_conn_set_servers(rec, event->current) != 0)
        return;
    presence_user_listed(p, rec);
    /* Others see an invisible user nowhere: nothing to show or take back. */
    if (strcmp(rec->status, "invisible") == 0)
        return;
    for (size_t i = 0; i < event->n_servers_added; i++)
        if (chat_id_valid(event->servers_added[i], CHAT_ID_SERVER_OR_USER))
            presence_membership_write(p, rec, event->servers_added[i], 1);
    if (event->n_servers_removed == 0)
        return;
    struct presence_siblings siblings = {.rec = rec};
    presence_table_foreach(p, presence_sibling_check, &siblings);
    for (size_t i = 0; i < event->n_servers_removed; i++)
        if (chat_id_valid(event->servers_removed[i], CHAT_ID_SERVER_OR_USER) &&
            !presence_kept_elsewhere(&siblings, event->servers_removed[i]))
            presence_membership_write(p, rec, event->servers_removed[i], 0);
    free(siblings.found);
}
