/* Redis Sentinel: which server is the master, and following it.
 *
 * Discovery asks the sentinels in turn (starting with the last one that
 * answered) `SENTINEL get-master-addr-by-name <name>`; the first address
 * given becomes the one node, whose handshake checks with ROLE that it is
 * a master (a sentinel that has not heard of a failover yet may name the
 * old one: the check fails and discovery starts again after a backoff).
 *
 * Following: while connected, a subscriber link to one sentinel listens to
 * `+switch-master`; when it names our master, every link is given up and
 * the announced master is connected at once.  A `-READONLY` answer (the
 * old master turned replica) or a lost link also ends the links, and
 * discovery runs again.  A lost watch moves to the next sentinel. */
#include "bus_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_SENTINEL_REWATCH_MS 1000

static void redis_sentinel_ask(struct bus_redis *br, size_t tries, const char *last_error);

int redis_sentinel_init(struct bus_redis *br)
{
    br->probe.br = br;
    return 0;
}

/* Make host:port the one node, and connect it. */
static void redis_sentinel_use(struct bus_redis *br, const char *host, int port)
{
    struct redis_node *node = redis_node_get(br, host, port);
    if (!node) {
        redis_link_fail(br, "out of memory");
        return;
    }
    for (int i = 0; i < br->n_nodes; i++)
        br->nodes[i]->in_use = 0;
    /* The master is always nodes[0]: swap it there. */
    struct redis_node *first = br->nodes[0];
    br->nodes[0] = node;
    br->nodes[node->index] = first;
    first->index = node->index;
    node->index = 0;
    node->in_use = 1;
    redis_link_connect_nodes(br);
}

static void redis_sentinel_answer(struct redis_probe *p, redisReply *reply, const char *error)
{
    struct bus_redis *br = p->br;
    size_t tries = br->probe_tries;
    char why[REDIS_HOST_MAX + 400];
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING && reply->element[1]->type == REDIS_REPLY_STRING) {
        char *end;
        long port = strtol(reply->element[1]->str, &end, 10);
        if (*end == '\0' && port > 0 && port < 65536 && reply->element[0]->len < REDIS_HOST_MAX) {
            br->sentinel_next = (br->sentinel_next + tries) % br->url.n_hosts;
            redis_sentinel_use(br, reply->element[0]->str, (int)port);
            return;
        }
    }
    if (reply && reply->type == REDIS_REPLY_NIL)
        snprintf(why, sizeof(why), "%s:%d does not know master '%s'", p->host, p->port, br->url.master_name);
    else if (reply && reply->type == REDIS_REPLY_ERROR)
        snprintf(why, sizeof(why), "%s:%d answered: %s", p->host, p->port, reply->str);
    else
        snprintf(why, sizeof(why), "%s:%d: %s", p->host, p->port, error ? error : "an answer of another shape");
    redis_sentinel_ask(br, tries + 1, why);
}

static void redis_sentinel_ask(struct bus_redis *br, size_t tries, const char *last_error)
{
    if (tries >= br->url.n_hosts) {
        char reason[REDIS_HOST_MAX + 500];
        snprintf(reason, sizeof(reason), "no sentinel named the master '%s' (last: %s)", br->url.master_name,
                 last_error);
        redis_link_fail(br, reason);
        return;
    }
    const struct redis_endpoint *s = &br->url.hosts[(br->sentinel_next + tries) % br->url.n_hosts];
    struct redis_probe *p = &br->probe;
    p->user = br->sentinel_user;
    p->password = br->sentinel_password;
    p->argv[0] = "SENTINEL";
    p->argv[1] = "get-master-addr-by-name";
    p->argv[2] = br->url.master_name;
    p->argc = 3;
    br->probe_tries = tries;
    p->done = redis_sentinel_answer;
    redis_probe_start(p, s->host, s->port);
}

void redis_sentinel_discover(struct bus_redis *br)
{
    if (br->switched_host[0]) {
        /* Announced by +switch-master: try it first (the other sentinels
         * may not know yet). */
        char host[REDIS_HOST_MAX];
        snprintf(host, sizeof(host), "%s", br->switched_host);
        br->switched_host[0] = '\0';
        redis_sentinel_use(br, host, br->switched_port);
        return;
    }
    redis_sentinel_ask(br, 0, "none");
}

static void redis_sentinel_watch(struct bus_redis *br);

static void redis_sentinel_rewatch(void *arg)
{
    struct bus_redis *br = arg;
    br->sentinel_timer = 0;
    redis_sentinel_watch(br);
}

/* The watch is gone: try the next sentinel in a while. */
static void redis_sentinel_unwatch(struct bus_redis *br, const char *why)
{
    redis_resolve_cancel(&br->sentinel_resolving);
    redis_sublink_close(br->sentinel_watch);
    br->sentinel_watch = NULL;
    br->sentinel_watch_up = 0;
    redis_health_update(br);
    if (why)
        br->api->log(br->self, SBR_LOG_WARN, "not watching the sentinels for a failover: %s", why);
    br->sentinel_watching = (br->sentinel_watching + 1) % br->url.n_hosts;
    if (!br->unloading && !br->sentinel_timer)
        br->sentinel_timer = br->api->timer_start(br->self, REDIS_SENTINEL_REWATCH_MS, 0, redis_sentinel_rewatch, br);
}

/* "+switch-master": "<name> <old ip> <old port> <new ip> <new port>". */
static void redis_sentinel_switch(struct bus_redis *br, const char *text)
{
    char name[256], old_host[REDIS_HOST_MAX], new_host[REDIS_HOST_MAX];
    int old_port, new_port;
    if (sscanf(text, "%255s %255s %d %255s %d", name, old_host, &old_port, new_host, &new_port) != 5 ||
        strcmp(name, br->url.master_name) != 0 || new_port <= 0 || new_port > 65535)
        return;
    snprintf(br->switched_host, sizeof(br->switched_host), "%s", new_host);
    br->switched_port = new_port;
    redis_health_count(br, "superbot_bus_redis_failovers_total", NULL);
    char reason[4 * REDIS_HOST_MAX];
    snprintf(reason, sizeof(reason), "failover: master '%s' moved from %s:%d to %s:%d", name, old_host, old_port,
             new_host, new_port);
    br->api->log(br->self, SBR_LOG_WARN, "sentinel announced a %s", reason);
    redis_link_fail_now(br, reason);
}

static void redis_sentinel_message(struct redis_sublink *link, redisReply *reply, void *arg)
{
    struct bus_redis *br = arg;
    if (link != br->sentinel_watch)
        return;
    if (reply->type == REDIS_REPLY_ERROR) {
        char why[300];
        snprintf(why, sizeof(why), "the sentinel answered: %s", reply->str);
        redis_sentinel_unwatch(br, why);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(reply->element[0]->str, "subscribe") == 0) {
        br->sentinel_watch_up = 1;
        redis_health_update(br);
        br->api->log(br->self, SBR_LOG_DEBUG, "watching sentinel %s:%d for a failover",
                     br->url.hosts[br->sentinel_watching].host, br->url.hosts[br->sentinel_watching].port);
    } else if (strcmp(reply->element[0]->str, "message") == 0 && reply->element[2]->type == REDIS_REPLY_STRING) {
        redis_sentinel_switch(br, reply->element[2]->str);
    }
}

static void redis_sentinel_lost(struct redis_sublink *link, const char *reason, void *arg)
{
    struct bus_redis *br = arg;
    if (link == br->sentinel_watch)
        redis_sentinel_unwatch(br, reason);
}

static void redis_sentinel_watch_open(void *arg, const char *address, const char *error)
{
    struct bus_redis *br = arg;
    if (!address) {
        redis_sentinel_unwatch(br, error);
        return;
    }
    const struct redis_endpoint *s = &br->url.hosts[br->sentinel_watching % br->url.n_hosts];
    br->sentinel_watch = redis_sublink_open(br->api->event_base(), address, s->port, NULL, redis_sentinel_message,
                                            redis_sentinel_lost, br);
    if (!br->sentinel_watch) {
        redis_sentinel_unwatch(br, "cannot open a connection");
        return;
    }
    int rc = 0;
    if (br->sentinel_password) {
        const char *argv[3] = {"AUTH", br->sentinel_user ? br->sentinel_user : br->sentinel_password,
                               br->sentinel_password};
        size_t lens[3] = {4, strlen(argv[1]), strlen(argv[2])};
        rc = redis_sublink_send(br->sentinel_watch, br->sentinel_user ? 3 : 2, argv, lens);
    }
    const char *argv[2] = {"SUBSCRIBE", "+switch-master"};
    size_t lens[2] = {9, 14};
    if (rc != 0 || redis_sublink_send(br->sentinel_watch, 2, argv, lens) != 0)
        redis_sentinel_unwatch(br, "out of memory");
}

static void redis_sentinel_watch(struct bus_redis *br)
{
    if (br->sentinel_watch || br->sentinel_resolving || br->unloading)
        return;
    const struct redis_endpoint *s = &br->url.hosts[br->sentinel_watching % br->url.n_hosts];
    redis_resolve(br, s->host, &br->sentinel_resolving, redis_sentinel_watch_open, br);
}

void redis_sentinel_connected(struct bus_redis *br)
{
    if (!br->sentinel_watch && !br->sentinel_timer && !br->sentinel_resolving) {
        br->sentinel_watching = br->sentinel_next;
        redis_sentinel_watch(br);
    }
}

void redis_sentinel_stop(struct bus_redis *br)
{
    if (br->sentinel_timer) {
        br->api->timer_stop(br->self, br->sentinel_timer);
        br->sentinel_timer = 0;
    }
    redis_resolve_cancel(&br->sentinel_resolving);
    redis_sublink_close(br->sentinel_watch);
    br->sentinel_watch = NULL;
    br->sentinel_watch_up = 0;
    redis_probe_stop(&br->probe);
}
