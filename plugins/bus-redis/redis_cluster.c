/* Redis Cluster: the slot map and its changes.
 *
 * Discovery asks the URL's nodes (then the masters known from before) in
 * turn for CLUSTER SLOTS; its masters become the nodes, and every slot the
 * index of its master among them.  While running, a MOVED answer points its
 * slot at the master it names at once and asks for the whole map again (one
 * question at a time, on a node's command link).  A new map with the same
 * masters is applied in place: the slots whose master changed publish to
 * their recent stream for a while (redis_publish.c), and their
 * subscriptions move to the new master (redis_pubsub_rehome).  A map with
 * other masters (one added, one gone) makes every link start again. */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int redis_cluster_init(struct bus_redis *br)
{
    br->probe.br = br;
    br->map = calloc(1, sizeof(*br->map));
    br->slot_tags = malloc(REDIS_SLOTS * sizeof(*br->slot_tags));
    br->slot_recent_until = calloc(REDIS_SLOTS, sizeof(*br->slot_recent_until));
    br->slot_moved = calloc(REDIS_SLOTS, sizeof(*br->slot_moved));
    br->slot_catchup = calloc(REDIS_SLOTS, sizeof(*br->slot_catchup));
    if (!br->map || !br->slot_tags || !br->slot_recent_until || !br->slot_moved || !br->slot_catchup)
        return -1;
    redis_slot_tags_build(br->slot_tags);
    return 0;
}

void redis_cluster_free(struct bus_redis *br)
{
    free(br->map);
    free(br->slot_tags);
    free(br->slot_recent_until);
    free(br->slot_moved);
    free(br->slot_catchup);
    br->slot_catchup = NULL;
    br->map = NULL;
    br->slot_tags = NULL;
    br->slot_recent_until = NULL;
    br->slot_moved = NULL;
}

/* Parse an answer into a new map; NULL with the reason in err. */
static struct redis_slotmap *redis_cluster_parse(const redisReply *reply, const char *asked, char *err,
                                                 size_t errlen)
{
    struct redis_slotmap *map = malloc(sizeof(*map));
    if (!map) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (redis_slotmap_parse(reply, asked, map, err, errlen) != 0) {
        free(map);
        return NULL;
    }
    size_t holes = redis_slotmap_uncovered(map);
    if (holes || !map->n_nodes) {
        snprintf(err, errlen, "%zu slot(s) have no master (the cluster is down or being made)", holes);
        free(map);
        return NULL;
    }
    return map;
}

/* Make map's masters the nodes in use, its owners indexes in br->nodes. */
static int redis_cluster_adopt(struct bus_redis *br, struct redis_slotmap *map)
{
    int index[REDIS_SLOTMAP_MAX_NODES];
    for (size_t i = 0; i < map->n_nodes; i++) {
        struct redis_node *node = redis_node_get(br, map->nodes[i].host, map->nodes[i].port);
        if (!node)
            return -1;
        index[i] = node->index;
    }
    for (int i = 0; i < br->n_nodes; i++)
        br->nodes[i]->in_use = 0;
    for (size_t i = 0; i < map->n_nodes; i++)
        br->nodes[index[i]]->in_use = 1;
    for (unsigned s = 0; s < REDIS_SLOTS; s++)
        map->owner[s] = (uint16_t)index[map->owner[s]];
    memcpy(br->map, map, sizeof(*map));
    return 0;
}

static void redis_cluster_ask(struct bus_redis *br, size_t tries, const char *last_error);

/* The seeds, then the masters of the last map: candidate i. */
static int redis_cluster_candidate(struct bus_redis *br, size_t i, const char **host, int *port)
{
    if (i < br->url.n_hosts) {
        *host = br->url.hosts[(br->seed_next + i) % br->url.n_hosts].host;
        *port = br->url.hosts[(br->seed_next + i) % br->url.n_hosts].port;
        return 1;
    }
    i -= br->url.n_hosts;
    if (i >= (size_t)br->n_nodes)
        return 0;
    *host = br->nodes[i]->host;
    *port = br->nodes[i]->port;
    return 1;
}

static void redis_cluster_answer(struct redis_probe *p, redisReply *reply, const char *error)
{
    struct bus_redis *br = p->br;
    char why[REDIS_HOST_MAX + 400];
    struct redis_slotmap *map = NULL;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        snprintf(why, sizeof(why), "%s:%d answered: %s", p->host, p->port, reply->str);
    else if (!reply)
        snprintf(why, sizeof(why), "%s:%d: %s", p->host, p->port, error);
    else
        map = redis_cluster_parse(reply, p->host, why, sizeof(why));
    if (!map) {
        redis_cluster_ask(br, br->probe_tries + 1, why);
        return;
    }
    if (br->probe_tries < br->url.n_hosts)
        br->seed_next = (br->seed_next + br->probe_tries) % br->url.n_hosts;
    int rc = redis_cluster_adopt(br, map);
    free(map);
    if (rc != 0) {
        redis_link_fail(br, "out of memory");
        return;
    }
    redis_health_count(br, "superbot_bus_redis_slot_map_refreshes_total", NULL);
    redis_link_connect_nodes(br);
}

static void redis_cluster_ask(struct bus_redis *br, size_t tries, const char *last_error)
{
    const char *host;
    int port;
    if (!redis_cluster_candidate(br, tries, &host, &port)) {
        char reason[REDIS_HOST_MAX + 500];
        snprintf(reason, sizeof(reason), "no node gave the slot map (last: %s)", last_error);
        redis_link_fail(br, reason);
        return;
    }
    struct redis_probe *p = &br->probe;
    p->user = br->url.user;
    p->password = br->url.password;
    p->argv[0] = "CLUSTER";
    p->argv[1] = "SLOTS";
    p->argc = 2;
    p->done = redis_cluster_answer;
    br->probe_tries = tries;
    redis_probe_start(p, host, port);
}

void redis_cluster_discover(struct bus_redis *br)
{
    redis_cluster_ask(br, 0, "none");
}

/* The slot's master changed: publish to its recent stream for a while,
 * and move its subscriptions. */
static void redis_cluster_moved(struct bus_redis *br, unsigned slot)
{
    br->slot_recent_until[slot] = redis_link_monotonic_ms() + br->recent_window_ms;
    br->slot_moved[slot] = 1;
}

/* The masters of map become the nodes in use (index[i] in br->nodes), the
 * new ones flagged in fresh[]; those no longer masters are let go.  -1
 * when out of memory. */
static int redis_cluster_masters(struct bus_redis *br, const struct redis_slotmap *map,
                                 int index[REDIS_SLOTMAP_MAX_NODES], int fresh[REDIS_SLOTMAP_MAX_NODES])
{
    for (size_t i = 0; i < map->n_nodes; i++) {
        struct redis_node *node = redis_node_get(br, map->nodes[i].host, map->nodes[i].port);
        if (!node)
            return -1;
        index[i] = node->index;
        fresh[i] = !node->in_use;
    }
    for (int n = 0; n < br->n_nodes; n++)
        br->nodes[n]->in_use = 0;
    for (size_t i = 0; i < map->n_nodes; i++)
        br->nodes[index[i]]->in_use = 1;
    for (int n = 0; n < br->n_nodes; n++)
        if (!br->nodes[n]->in_use)
            br->nodes[n]->lost = 0; /* it left: not a failure */
    return 0;
}

/* Masters added: connected while the others serve (commands for their
 * slots wait for them: redis_route.c); masters gone: closed once idle. */
static void redis_cluster_new_masters(struct bus_redis *br, const struct redis_slotmap *map, const int *index,
                                      const int *fresh)
{
    size_t added = 0;
    for (size_t i = 0; i < map->n_nodes; i++) {
        if (!fresh[i])
            continue;
        br->api->log(br->self, SBR_LOG_INFO, "cluster master %s added: connecting", br->nodes[index[i]]->name);
        redis_node_open(br->nodes[index[i]]);
        added++;
    }
    if (added)
        redis_link_watch_new_nodes(br);
    redis_link_reap(br);
}

/* A new map: the slots whose master changed move, masters come and go. */
static void redis_cluster_apply(struct bus_redis *br, const struct redis_slotmap *map)
{
    int index[REDIS_SLOTMAP_MAX_NODES], fresh[REDIS_SLOTMAP_MAX_NODES];
    if (redis_cluster_masters(br, map, index, fresh) != 0) {
        redis_link_fail(br, "out of memory");
        return;
    }
    for (size_t i = 0; i < map->n_nodes; i++) {
        if (br->nodes[index[i]]->lost) {
            char reason[REDIS_HOST_MAX + 100];
            snprintf(reason, sizeof(reason), "%s: connection lost, and it is still a master of the cluster",
                     br->nodes[index[i]]->name);
            redis_link_fail(br, reason);
            return;
        }
    }
    size_t changed = 0;
    for (unsigned s = 0; s < REDIS_SLOTS; s++) {
        uint16_t owner = (uint16_t)index[map->owner[s]];
        if (br->map->owner[s] == owner)
            continue;
        br->map->owner[s] = owner;
        redis_cluster_moved(br, s);
        changed++;
    }
    br->map->n_nodes = map->n_nodes;
    memcpy(br->map->nodes, map->nodes, map->n_nodes * sizeof(map->nodes[0]));
    if (changed)
        br->api->log(br->self, SBR_LOG_INFO, "slot map refreshed: %zu slot(s) changed master", changed);
    redis_cluster_new_masters(br, map, index, fresh);
    redis_link_node_ready(br); /* moves the subscriptions, resumes the lanes */
}

void redis_cluster_node_lost(struct redis_node *node, const char *reason)
{
    struct bus_redis *br = node->br;
    redis_pubsub_node_lost(br, node);
    redis_node_close(node);
    redis_publish_node_lost(br, node);
    redis_health_update(br);
    if (!node->in_use)
        return; /* a master that left the cluster: nothing else to do */
    br->api->log(br->self, SBR_LOG_WARN, "%s; asking the cluster whether it is still a master", reason);
    node->lost = 1;
    redis_link_watch_new_nodes(br); /* still not there in connect_timeout_ms: the bus is down */
    redis_cluster_refresh(br);
}

static void redis_cluster_refresh_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_node *node = ac->data;
    struct bus_redis *br = node->br;
    redisReply *reply = r;
    redis_link_answered(node);
    if (!reply || ac != node->cmd)
        return; /* the links are gone: the next ones ask for a map anyway */
    br->refreshing = 0;
    redis_health_count(br, "superbot_bus_redis_slot_map_refreshes_total", NULL);
    char err[REDIS_HOST_MAX + 200];
    struct redis_slotmap *map = reply->type == REDIS_REPLY_ERROR ? NULL
                                                                 : redis_cluster_parse(reply, node->host, err, sizeof(err));
    if (reply->type == REDIS_REPLY_ERROR)
        snprintf(err, sizeof(err), "%s", reply->str);
    if (!map) {
        br->api->log(br->self, SBR_LOG_WARN, "cannot refresh the slot map from %s: %s", node->name, err);
        redis_pubsub_rehome(br); /* with what MOVED told */
        redis_publish_resume(br);
    } else {
        redis_cluster_apply(br, map);
        free(map);
    }
    if (br->refresh_again && br->usable) {
        br->refresh_again = 0;
        redis_cluster_refresh(br);
    }
}

void redis_cluster_refresh(struct bus_redis *br)
{
    if (br->mode != REDIS_MODE_CLUSTER)
        return;
    if (br->refreshing || !br->usable) {
        br->refresh_again = 1; /* after this one, or once connected */
        return;
    }
    for (int i = 0; i < br->n_nodes; i++) {
        struct redis_node *node = br->nodes[(br->refresh_next + i) % br->n_nodes];
        if (!node->in_use || !node->ready)
            continue;
        if (redisAsyncCommand(node->cmd, redis_cluster_refresh_reply, NULL, "CLUSTER SLOTS") != REDIS_OK)
            return;
        br->refresh_next = node->index + 1;
        redis_link_sent(node);
        br->refreshing = 1;
        return;
    }
}

int redis_cluster_redirected(struct bus_redis *br, struct redis_node *from, const char *error,
                             struct redis_node **target, int *asking)
{
    struct redis_redirect rd;
    *target = NULL;
    *asking = 0;
    if (br->mode != REDIS_MODE_CLUSTER || redis_redirect_parse(error, &rd) == REDIS_REDIRECT_NONE)
        return REDIS_REDIRECT_NONE;
    static const char *const kinds[] = {"", "kind=\"moved\"", "kind=\"ask\"", "kind=\"tryagain\"",
                                        "kind=\"unserved\""};
    redis_health_count(br, "superbot_bus_redis_redirects_total", kinds[rd.kind]);
    if (rd.kind == REDIS_REDIRECT_TRYAGAIN) {
        *target = from;
        return rd.kind;
    }
    if (rd.kind == REDIS_REDIRECT_UNSERVED) { /* our map is older than that node's */
        redis_cluster_refresh(br);
        return rd.kind;
    }
    const char *host = rd.host[0] ? rd.host : from->host;
    struct redis_node *node = NULL;
    for (int i = 0; i < br->n_nodes && !node; i++)
        if (br->nodes[i]->in_use && br->nodes[i]->port == rd.port && strcmp(br->nodes[i]->host, host) == 0)
            node = br->nodes[i];
    if (!node) { /* a master we do not know: the map says what changed */
        redis_cluster_refresh(br);
        return rd.kind;
    }
    if (rd.kind == REDIS_REDIRECT_MOVED) {
        if (br->map->owner[rd.slot] != node->index) {
            br->map->owner[rd.slot] = (uint16_t)node->index;
            redis_cluster_moved(br, rd.slot);
        }
        redis_cluster_refresh(br);
    } else {
        *asking = 1;
    }
    *target = node;
    return rd.kind;
}
