/* Presence grace: a lost connection (transport closed, ping timeout, the
 * worker draining) keeps its field in "presence:conns:<user>" for
 * presence_grace_seconds.  A connection of the user that arrives meanwhile,
 * on any worker, finds it there: no `online` (and it takes its status).
 * When the grace ends the field goes, which says `offline` only if it was
 * the user's last (presence_conn_remove).  Every grace has the same length,
 * so they wait in one FIFO under one timer.  A worker that stops leaves its
 * fields to expire: the dead-worker reaper says `offline` for users still
 * without a connection. */
#include "presence.h"

#include <stdlib.h>
#include <string.h>

struct presence_grace {
    struct presence_grace *next;
    struct presence_conn *rec;
    uint64_t until_ms;
};

/* The field outlives the grace by this much, so it is there when the
 * grace ends even if the timer is late (a busy loop). */
#define PRESENCE_GRACE_MARGIN_MS 5000

static void presence_grace_fire(void *userdata);

static void presence_grace_arm(struct presence *p)
{
    if (p->grace_timer || !p->graces)
        return;
    uint64_t now = p->api->now_ms();
    uint64_t until = p->graces->until_ms;
    p->grace_timer = p->api->timer_start(p->self, until > now ? until - now : 0, 0, presence_grace_fire, p);
}

static void presence_grace_fire(void *userdata)
{
    struct presence *p = userdata;
    p->grace_timer = 0;
    uint64_t now = p->api->now_ms();
    while (p->graces && p->graces->until_ms <= now) {
        struct presence_grace *g = p->graces;
        p->graces = g->next;
        if (!p->graces)
            p->graces_tail = &p->graces;
        p->n_graces--;
        presence_conn_remove(p, g->rec);
        free(g);
    }
    presence_grace_arm(p);
}

int presence_grace_start(struct presence *p, struct presence_conn *rec)
{
    struct presence_grace *g = malloc(sizeof *g);
    if (!g)
        return -1;
    *g = (struct presence_grace){NULL, rec, p->api->now_ms() + p->grace_ms};
    *p->graces_tail = g;
    p->graces_tail = &g->next;
    p->n_graces++;
    /* Its entries, the servers' lists included, must outlive the grace
     * whatever time their last refresh left them. */
    uint64_t keep = p->grace_ms + PRESENCE_GRACE_MARGIN_MS;
    if (keep < p->ttl_ms)
        keep = p->ttl_ms;
    presence_publish_conn(p, rec, keep);
    if (strcmp(rec->status, "invisible") != 0)
        presence_publish_servers(p, rec, keep);
    presence_grace_arm(p);
    return 0;
}

void presence_grace_clear(struct presence *p)
{
    if (p->grace_timer)
        p->api->timer_stop(p->self, p->grace_timer);
    p->grace_timer = 0;
    while (p->graces) {
        struct presence_grace *g = p->graces;
        p->graces = g->next;
        presence_conn_free(g->rec);
        free(g);
    }
    p->graces_tail = &p->graces;
    p->n_graces = 0;
}
