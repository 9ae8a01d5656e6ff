/* Where a key or a channel lives, and commands that follow the cluster's
 * redirections: MOVED (the slot has another master: sent again there, the
 * map updated), ASK (a slot migrating: sent again to the target once,
 * after ASKING), TRYAGAIN (a multi-key command whose keys a migration has
 * split: sent again a little later).  A command for a master still
 * connecting (just added to the cluster) waits for it the same way.  On a
 * single server or a sentinel set's master every slot is 0 and lives on
 * the one node. */
#include "bus_redis.h"

#include <stdlib.h>
#include <string.h>

/* A command followed through at most this many redirections. */
#define REDIS_ROUTE_MAX_REDIRECTS 8
#define REDIS_ROUTE_TRYAGAIN_MS 20
#define REDIS_ROUTE_MAX_TRYAGAIN 100

struct redis_routed {
    struct bus_redis *br;
    struct redis_routed *prev, *next; /* in br->retrying while a timer waits */
    uint32_t slot;
    char *cmd;      /* the formatted command */
    size_t len;
    redis_route_fn fn;
    void *privdata;
    int redirects;
    int tryagain;
    sbr_timer_id timer;
};

uint32_t redis_route_slot(const struct bus_redis *br, const char *name, size_t len)
{
    return br->mode == REDIS_MODE_CLUSTER ? redis_slot(name, len) : 0;
}

/* The node owning slot, ready or not; NULL when the bus is not usable. */
static struct redis_node *redis_route_owner(const struct bus_redis *br, uint32_t slot)
{
    if (!br->usable || !br->n_nodes)
        return NULL;
    if (br->mode != REDIS_MODE_CLUSTER)
        return br->nodes[0];
    unsigned owner = br->map->owner[slot & (REDIS_SLOTS - 1)];
    return owner < (unsigned)br->n_nodes ? br->nodes[owner] : NULL;
}

struct redis_node *redis_route_node(const struct bus_redis *br, uint32_t slot)
{
    struct redis_node *node = redis_route_owner(br, slot);
    return node && node->ready && node->cmd ? node : NULL;
}

static void redis_routed_free(struct redis_routed *r)
{
    redisFreeCommand(r->cmd);
    free(r);
}

static void redis_routed_done(struct redis_routed *r, struct redis_node *node, redisReply *reply)
{
    r->fn(node, reply, r->privdata);
    redis_routed_free(r);
}

static void redis_routed_reply(redisAsyncContext *ac, void *reply, void *privdata);

static int redis_routed_send(struct redis_routed *r, struct redis_node *node, int asking)
{
    if (!node || !node->ready || !node->cmd)
        return -1;
    if (asking && redisAsyncCommand(node->cmd, NULL, NULL, "ASKING") != REDIS_OK)
        return -1;
    if (redisAsyncFormattedCommand(node->cmd, redis_routed_reply, r, r->cmd, r->len) != REDIS_OK)
        return -1;
    redis_link_sent(node);
    return 0;
}

static void redis_routed_later(struct redis_routed *r);

/* A master just added to the cluster is still connecting: wait for it (up
 * to REDIS_ROUTE_MAX_TRYAGAIN times).  0 when sent or waiting. */
static int redis_routed_place(struct redis_routed *r)
{
    struct redis_node *owner = redis_route_owner(r->br, r->slot);
    if (owner && owner->in_use && !owner->ready && ++r->tryagain <= REDIS_ROUTE_MAX_TRYAGAIN) {
        redis_routed_later(r);
        return 0;
    }
    return redis_routed_send(r, redis_route_node(r->br, r->slot), 0);
}

static void redis_routed_retry(void *arg)
{
    struct redis_routed *r = arg;
    struct bus_redis *br = r->br;
    r->timer = 0;
    if (r->prev)
        r->prev->next = r->next;
    else
        br->retrying = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (redis_routed_place(r) != 0)
        redis_routed_done(r, NULL, NULL);
}

static void redis_routed_later(struct redis_routed *r)
{
    struct bus_redis *br = r->br;
    r->prev = NULL;
    r->next = br->retrying;
    if (br->retrying)
        br->retrying->prev = r;
    br->retrying = r;
    r->timer = br->api->timer_start(br->self, REDIS_ROUTE_TRYAGAIN_MS, 0, redis_routed_retry, r);
}

/* An error answer: 1 if it was a redirection that r followed. */
static int redis_routed_redirect(struct redis_routed *r, struct redis_node *from, const char *error)
{
    struct redis_node *target;
    int asking;
    int kind = redis_cluster_redirected(r->br, from, error, &target, &asking);
    if (kind == REDIS_REDIRECT_NONE || r->redirects >= REDIS_ROUTE_MAX_REDIRECTS)
        return 0;
    if (kind == REDIS_REDIRECT_TRYAGAIN || !target) {
        /* Split keys, or a master the map does not name yet (it is being
         * asked for): a little later. */
        if (++r->tryagain > REDIS_ROUTE_MAX_TRYAGAIN)
            return 0;
        redis_routed_later(r);
        return 1;
    }
    r->redirects++;
    if (!asking && !target->ready)
        return redis_routed_place(r) == 0; /* MOVED to a master still connecting */
    return redis_routed_send(r, target, asking) == 0;
}

static void redis_routed_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct redis_node *node = ac->data;
    struct redis_routed *r = privdata;
    redisReply *rep = reply;
    redis_link_answered(node);
    if (!rep || r->br->unloading) {
        redis_routed_done(r, NULL, NULL);
        return;
    }
    if (rep->type == REDIS_REPLY_ERROR && ac == node->cmd && redis_routed_redirect(r, node, rep->str))
        return;
    redis_routed_done(r, node, rep);
}

int redis_route_command(struct bus_redis *br, uint32_t slot, int argc, const char **argv, const size_t *lens,
                        redis_route_fn fn, void *privdata)
{
    if (!redis_route_owner(br, slot))
        return -1;
    struct redis_routed *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    int len = redisFormatCommandArgv(&r->cmd, argc, argv, lens);
    if (len < 0) {
        free(r);
        return -1;
    }
    r->br = br;
    r->slot = slot;
    r->len = (size_t)len;
    r->fn = fn;
    r->privdata = privdata;
    if (redis_routed_place(r) != 0) {
        redis_routed_free(r);
        return -1;
    }
    return 0;
}

void redis_route_clear(struct bus_redis *br)
{
    while (br->retrying) {
        struct redis_routed *r = br->retrying;
        br->retrying = r->next;
        br->api->timer_stop(br->self, r->timer);
        redis_routed_done(r, NULL, NULL);
    }
}
