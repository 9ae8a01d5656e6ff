/* A recovering connection gets its joined channels back: the core restores
 * its rooms (sbr_event_connect.recovery).  A `channel:` room whose channel
 * is unknown now, or belongs to a server no longer among the identity's
 * servers, is left out, as join_channel would refuse it; the others go in
 * the table of joined channels (channel_joins.h), so that leaving a server
 * later takes the socket out of them.  If the connection then turns out
 * fresh (not recovered), that table is emptied again at SBR_EVENT_CONNECTED. */
#include "channels.h"
#include "channel_record.h"
#include "chat_event.h"

#include <stdlib.h>
#include <string.h>

#define CHANNEL_ROOM_PREFIX "channel:"

struct restore_check {
    struct channels *ch;
    sbr_conn_id conn;
    unsigned char *keep;
    size_t pending;
};

struct restore_lookup {
    struct restore_check *check;
    size_t index;
    char channel_id[CHAT_ID_MAX + 1];
};

static void restore_done(struct restore_check *check)
{
    if (--check->pending)
        return;
    check->ch->api->connect_resume(check->conn, SBR_PASS, NULL);
    free(check);
}

static void restore_looked_up(int found, const struct channel_record *record, void *userdata)
{
    struct restore_lookup *lookup = userdata;
    struct restore_check *check = lookup->check;
    const sbr_api *api = check->ch->api;
    /* The keep flags live as long as the connect chain, which waits for us
     * unless the connection went away. */
    const sbr_identity *who = api->conn_alive(check->conn) ? api->conn_identity(check->conn) : NULL;
    /* Kept only when tracked, as join_channel would: an untracked channel
     * would stay joined after its server is left. */
    if (who && (found <= 0 || !chat_list_has(who->servers, who->n_servers, record->server_id) ||
                channel_joins_add(&check->ch->joins, check->conn, lookup->channel_id, record->server_id) != 0))
        check->keep[lookup->index] = 0;
    free(lookup);
    restore_done(check);
}

/* Ask about one restored channel room; 0, or -1 when it cannot be asked. */
static int restore_ask(struct restore_check *check, size_t index, const char *channel_id)
{
    struct restore_lookup *lookup = malloc(sizeof(*lookup));
    if (!lookup)
        return -1;
    *lookup = (struct restore_lookup){check, index, {0}};
    strcpy(lookup->channel_id, channel_id);
    check->pending++;
    if (channel_lookup(check->ch->api, &check->ch->cache, channel_id, restore_looked_up, lookup) == SBR_OK)
        return 0;
    check->pending--;
    free(lookup);
    return -1;
}

int channels_restore(struct channels *ch, const sbr_event_connect *event)
{
    const sbr_recovery *rec = SBR_EVENT_HAS(event, sbr_event_connect, recovery) ? event->recovery : NULL;
    if (!rec || !rec->keep || !rec->n_rooms)
        return SBR_PASS;
    struct restore_check *check = calloc(1, sizeof(*check));
    if (!check)
        return SBR_PASS;
    *check = (struct restore_check){ch, event->conn, rec->keep, 1};
    size_t plen = strlen(CHANNEL_ROOM_PREFIX);
    for (size_t i = 0; i < rec->n_rooms; i++) {
        const char *room = rec->rooms[i];
        if (!rec->keep[i] || strncmp(room, CHANNEL_ROOM_PREFIX, plen) != 0)
            continue;
        if (!chat_id_valid(room + plen, CHAT_ID_CHANNEL) || restore_ask(check, i, room + plen) != 0)
            rec->keep[i] = 0; /* cannot be checked: joined again by the app if it wants */
    }
    if (--check->pending == 0) {
        free(check);
        return SBR_PASS;
    }
    return SBR_PENDING;
}

void channels_restored(struct channels *ch, const sbr_event_connected *event)
{
    /* A fresh connection has joined no channel yet: what the offer put in
     * the table was not restored. */
    if (SBR_EVENT_HAS(event, sbr_event_connected, recovery_asked) && event->recovery_asked && !event->recovered)
        channel_joins_forget(&ch->joins, event->conn);
}
