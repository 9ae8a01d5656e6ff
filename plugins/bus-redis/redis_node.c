/* One Redis server's links: the command link (hiredis async: AUTH, SELECT,
 * ROLE, the scripts loaded, then every command and publish) and the
 * subscriber link (redis_sublink.h: AUTH, the subscriptions this node
 * owns, a PING whose answer ends the handshake).  A failure of either gives
 * up every link of the bus (redis_link_fail). */
#include "bus_redis.h"

#include <hiredis/adapters/libevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct redis_node *redis_node_get(struct bus_redis *br, const char *host, int port)
{
    for (int i = 0; i < br->n_nodes; i++)
        if (br->nodes[i]->port == port && strcmp(br->nodes[i]->host, host) == 0)
            return br->nodes[i];
    if (strlen(host) >= REDIS_HOST_MAX)
        return NULL;
    struct redis_node **grown = realloc(br->nodes, (size_t)(br->n_nodes + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    br->nodes = grown;
    struct redis_node *node = calloc(1, sizeof(*node));
    if (!node)
        return NULL;
    node->br = br;
    node->index = br->n_nodes;
    node->metric_up = -1;
    node->port = port;
    memcpy(node->host, host, strlen(host) + 1);
    if (!port)
        snprintf(node->name, sizeof(node->name), "unix:%s", host);
    else
        snprintf(node->name, sizeof(node->name), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    br->nodes[br->n_nodes++] = node;
    return node;
}

void redis_nodes_free(struct bus_redis *br)
{
    for (int i = 0; i < br->n_nodes; i++)
        free(br->nodes[i]);
    free(br->nodes);
    br->nodes = NULL;
    br->n_nodes = 0;
}

/* Give up the bus, naming the node.  A cluster in use loses only the node
 * first: it may have left the cluster (redis_cluster_node_lost). */
static void redis_node_fail(struct redis_node *node, const char *what, const char *why)
{
    struct bus_redis *br = node->br;
    char reason[REDIS_HOST_MAX + 400];
    snprintf(reason, sizeof(reason), "%s%s%s: %s", br->n_nodes > 1 ? node->name : "", br->n_nodes > 1 ? ": " : "",
             what, why);
    if (br->mode == REDIS_MODE_CLUSTER && br->usable && (node->ready || !node->in_use)) {
        redis_cluster_node_lost(node, reason);
        return;
    }
    redis_link_fail(br, reason);
}

void redis_node_handshake_step(struct redis_node *node, int commands)
{
    if (commands)
        node->cmd_handshake--;
    else
        node->sub_handshake--;
    if (node->cmd && node->sub && !node->ready && node->cmd_handshake == 0 && node->sub_handshake == 0) {
        node->ready = 1;
        redis_link_node_ready(node->br);
    }
}

/* NULL: the link is being torn down, nothing to do.  An error: give up. */
static int redis_node_reply_ok(redisAsyncContext *ac, redisReply *reply, const char *what)
{
    struct redis_node *node = ac->data;
    if (!reply || ac != node->cmd)
        return 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        char failed[40];
        snprintf(failed, sizeof(failed), "%s failed", what);
        redis_node_fail(node, failed, reply->str);
        return 0;
    }
    return 1;
}

static void redis_node_step_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    if (redis_node_reply_ok(ac, r, privdata))
        redis_node_handshake_step(ac->data, 1);
}

/* A replica (say, the old master after a failover) would refuse every
 * write: not usable.  A ROLE we may not run tells nothing: go on. */
static void redis_node_role_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_node *node = ac->data;
    redisReply *reply = r;
    if (!reply || ac != node->cmd)
        return;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 && reply->element[0]->type == REDIS_REPLY_STRING &&
        (strcmp(reply->element[0]->str, "slave") == 0 || strcmp(reply->element[0]->str, "replica") == 0)) {
        redis_node_fail(node, "ROLE", "it is a read-only replica");
        return;
    }
    redis_node_handshake_step(node, 1);
}

static void redis_node_script_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_node *node = ac->data;
    redisReply *reply = r;
    if (!redis_node_reply_ok(ac, reply, "SCRIPT LOAD"))
        return;
    char *sha = privdata;
    if (reply->type == REDIS_REPLY_STRING && reply->len == 40)
        memcpy(sha, reply->str, 41);
    redis_node_handshake_step(node, 1);
}

static void redis_node_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_node *node = ac->data;
    if (status == REDIS_OK || ac != node->cmd)
        return;
    /* hiredis frees a context whose connect failed once this returns. */
    node->cmd = NULL;
    redis_node_fail(node, "cannot connect", ac->errstr[0] ? ac->errstr : "connection failed");
}

static void redis_node_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_node *node = ac->data;
    if (ac != node->cmd)
        return; /* a link we closed ourselves */
    node->cmd = NULL;
    redis_node_fail(node, "connection lost",
                    status == REDIS_OK || !ac->errstr[0] ? "closed by the server" : ac->errstr);
}

/* Queue the command link's handshake; returns the replies to wait for. */
static int redis_node_cmd_handshake(struct redis_node *node)
{
    struct bus_redis *br = node->br;
    redisAsyncContext *ac = node->cmd;
    int steps = 0;
    if (br->url.password) {
        if (br->url.user)
            redisAsyncCommand(ac, redis_node_step_reply, "AUTH", "AUTH %s %s", br->url.user, br->url.password);
        else
            redisAsyncCommand(ac, redis_node_step_reply, "AUTH", "AUTH %s", br->url.password);
        steps++;
    }
    if (br->mode != REDIS_MODE_CLUSTER) { /* a cluster has database 0 only */
        redisAsyncCommand(ac, redis_node_step_reply, "SELECT", "SELECT %ld", br->url.db);
        steps++;
    }
    redisAsyncCommand(ac, redis_node_role_reply, NULL, "ROLE");
    steps++;
    for (int i = 0; i < REDIS_SCRIPT_COUNT_; i++) {
        redisAsyncCommand(ac, redis_node_script_reply, br->script_sha[i], "SCRIPT LOAD %s",
                          redis_script_source((enum redis_script)i));
        steps++;
    }
    return steps;
}

static void redis_node_sub_lost(struct redis_sublink *link, const char *reason, void *arg)
{
    struct redis_node *node = arg;
    if (link != node->sub)
        return;
    redis_node_fail(node, "connection lost", reason);
}

/* Open the subscriber link and queue its handshake (AUTH, subscriptions, PING). */
static int redis_node_open_sub(struct redis_node *node)
{
    struct bus_redis *br = node->br;
    node->sub = redis_sublink_open(br->api->event_base(), node->address, node->port, br->url.socket_path,
                                   redis_pubsub_reply, redis_node_sub_lost, node);
    if (!node->sub) {
        redis_node_fail(node, "cannot connect", "no subscriber socket");
        return -1;
    }
    if (br->url.password) {
        const char *argv[3] = {"AUTH", br->url.user ? br->url.user : br->url.password, br->url.password};
        size_t lens[3] = {4, strlen(argv[1]), strlen(argv[2])};
        if (redis_sublink_send(node->sub, br->url.user ? 3 : 2, argv, lens) != 0)
            return -1;
    }
    node->sub_handshake = 1;
    if (redis_pubsub_open(node) != 0) {
        redis_node_fail(node, "subscribe", "out of memory");
        return -1;
    }
    return 0;
}

static void redis_node_connect(struct redis_node *node)
{
    struct bus_redis *br = node->br;
    redisAsyncContext *ac = br->url.socket_path ? redisAsyncConnectUnix(br->url.socket_path)
                                                : redisAsyncConnect(node->address, node->port);
    if (!ac || ac->err) {
        char why[300];
        snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        redis_node_fail(node, "cannot connect", why);
        return;
    }
    ac->data = node;
    node->cmd = ac;
    redisLibeventAttach(ac, br->api->event_base());
    redisAsyncSetConnectCallback(ac, redis_node_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_node_on_disconnect);
    node->cmd_handshake = redis_node_cmd_handshake(node);
    redis_node_open_sub(node);
}

static void redis_node_resolved(void *arg, const char *address, const char *error)
{
    struct redis_node *node = arg;
    if (!address) {
        redis_node_fail(node, "cannot connect", error);
        return;
    }
    snprintf(node->address, sizeof(node->address), "%s", address);
    redis_node_connect(node);
}

void redis_node_open(struct redis_node *node)
{
    node->ready = 0;
    node->lost = 0;
    node->inflight = 0;
    node->rehome_pings = node->rehome_answered = 0;
    if (node->br->url.socket_path)
        redis_node_connect(node);
    else
        redis_resolve(node->br, node->host, &node->resolving, redis_node_resolved, node);
}

void redis_node_close(struct redis_node *node)
{
    redisAsyncContext *cmd = node->cmd;
    struct redis_sublink *sub = node->sub;
    redis_resolve_cancel(&node->resolving);
    node->cmd = NULL;
    node->sub = NULL;
    node->ready = 0;
    node->inflight = 0;
    node->cmd_handshake = node->sub_handshake = 0;
    if (cmd)
        redisAsyncFree(cmd);
    redis_sublink_close(sub);
}
