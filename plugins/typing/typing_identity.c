/* A connection that leaves a server stops typing in that server's channels.
 *
 * Typing does not know which server a channel belongs to; the channels
 * plugin does, and takes the connection out of those channel rooms in its
 * own SBR_EVENT_IDENTITY hook, which runs after this one (conf.d order).
 * So the connection is noted here and looked at again once the event is
 * over (one timer of 0 ms for all of them): a typing in a channel whose
 * room it is no longer in ends, with typing_stop to the channel. */
#include "typing.h"

#include <stdlib.h>

static void typing_recheck(void *userdata)
{
    struct typing *t = userdata;
    t->recheck_timer = 0;
    /* Taken first: ending a typing may not add to the list, but stay safe. */
    sbr_conn_id *conns = t->rechecks;
    size_t n = t->n_rechecks;
    t->rechecks = NULL;
    t->n_rechecks = t->cap_rechecks = 0;
    for (size_t i = 0; i < n; i++)
        typing_on_rooms_left(t, conns[i]);
    free(conns);
}

void typing_on_identity(struct typing *t, const sbr_event_identity *event)
{
    if (event->n_servers_removed == 0)
        return;
    if (t->n_rechecks == t->cap_rechecks) {
        size_t cap = t->cap_rechecks ? t->cap_rechecks * 2 : 16;
        sbr_conn_id *grown = realloc(t->rechecks, cap * sizeof *grown);
        if (!grown) {
            t->api->log(t->self, SBR_LOG_ERROR, "out of memory: a typing may outlive its user's membership");
            return;
        }
        t->rechecks = grown;
        t->cap_rechecks = cap;
    }
    t->rechecks[t->n_rechecks++] = event->conn;
    if (!t->recheck_timer)
        t->recheck_timer = t->api->timer_start(t->self, 0, 0, typing_recheck, t);
}

void typing_identity_clear(struct typing *t)
{
    free(t->rechecks);
    t->rechecks = NULL;
    t->n_rechecks = t->cap_rechecks = 0;
    t->recheck_timer = 0;
}
