/* Offline announcements made while the shared backend was away, checked
 * again once it is back.
 *
 * Cut off from the other workers, a worker whose last local connection of
 * a user closes says `offline` (to its own clients at once, to the others
 * when the bus is back), although the user may still be connected on
 * another worker.  So it remembers whom it said offline; once the backend
 * is back it reads, at each beat, the users' connections there, and
 * announces `online` again (with their status) those who still have one
 * somewhere.  It goes on for a TTL after reconnecting, the time the others
 * have to reconnect and write their connections back; a user still without
 * one then was offline indeed. */
#include "presence.h"

#include <stdlib.h>
#include <string.h>

/* Users remembered at most; beyond, the offline stands until their next change. */
#define PRESENCE_DOUBTS_MAX 10000

int presence_doubt_keep(struct presence *p, struct presence_conn *rec)
{
    if (p->api->bus_state() == SBR_BUS_CONNECTED || p->n_doubts >= PRESENCE_DOUBTS_MAX)
        return 0;
    rec->next = p->doubts;
    p->doubts = rec;
    p->n_doubts++;
    return 1;
}

static void presence_doubt_put_back(struct presence *p, struct presence_conn *rec)
{
    rec->next = p->doubts;
    p->doubts = rec;
    p->n_doubts++;
}

struct presence_doubt_check {
    struct presence *p;
    struct presence_conn *rec;
};

static void presence_doubt_conns(const sbr_state_reply *reply, void *userdata)
{
    struct presence_doubt_check *check = userdata;
    struct presence *p = check->p;
    struct presence_conn *rec = check->rec;
    free(check);
    const char *status = NULL;
    for (size_t i = 0; reply->status == SBR_OK && i < reply->n && !status; i++)
        if (presence_status_valid(reply->values[i]))
            status = reply->values[i];
    if (status) {
        /* Still connected elsewhere: what the others were told is wrong. */
        if (strcmp(status, "invisible") != 0)
            presence_announce(p, rec, status);
        presence_conn_free(rec);
    } else if (p->api->bus_state() == SBR_BUS_CONNECTED && p->api->now_ms() - p->connected_at <= p->ttl_ms) {
        presence_doubt_put_back(p, rec);
    } else {
        presence_conn_free(rec);
    }
}

void presence_doubt_check(struct presence *p)
{
    if (!p->doubts || p->api->bus_state() != SBR_BUS_CONNECTED)
        return;
    struct presence_conn *list = p->doubts;
    p->doubts = NULL;
    p->n_doubts = 0;
    while (list) {
        struct presence_conn *rec = list;
        list = rec->next;
        rec->next = NULL;
        struct presence_doubt_check *check = malloc(sizeof *check);
        char *key = chat_format("presence:conns:%s", rec->user_id);
        if (check && key) {
            check->p = p;
            check->rec = rec;
            if (p->api->map_get_all(key, presence_doubt_conns, check) == SBR_OK) {
                check = NULL;
                rec = NULL;
            }
        }
        free(check);
        free(key);
        presence_conn_free(rec);
    }
}

void presence_doubt_clear(struct presence *p)
{
    while (p->doubts) {
        struct presence_conn *rec = p->doubts;
        p->doubts = rec->next;
        presence_conn_free(rec);
    }
    p->n_doubts = 0;
}
