/* A cluster of masters for the tests (see redis_server.h). */
#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int redis_cluster_available(void)
{
    return redis_server_available() && system("command -v redis-cli >/dev/null 2>&1") == 0;
}

/* Every node reports cluster_state:ok and n masters in CLUSTER SLOTS' view. */
static int redis_cluster_agrees(struct redis_cluster *rc)
{
    for (int i = 0; i < rc->n; i++) {
        redisContext *c = redisConnect("127.0.0.1", rc->nodes[i].port);
        redisReply *info = c && !c->err ? redisCommand(c, "CLUSTER INFO") : NULL;
        int ok = info && info->type == REDIS_REPLY_STRING && strstr(info->str, "cluster_state:ok") &&
                 strstr(info->str, "cluster_slots_assigned:16384");
        if (info)
            freeReplyObject(info);
        if (c)
            redisFree(c);
        if (!ok)
            return 0;
    }
    return 1;
}

int redis_cluster_start(struct redis_cluster *rc, int n)
{
    memset(rc, 0, sizeof(*rc));
    rc->n = n;
    char cmd[600] = "redis-cli --cluster create";
    size_t at = (size_t)snprintf(rc->url, sizeof(rc->url), "redis-cluster://");
    for (int i = 0; i < n; i++) {
        rc->nodes[i].cluster = 1;
        if (redis_server_start(&rc->nodes[i], 0, NULL) != 0) {
            redis_cluster_cleanup(rc);
            return -1;
        }
        snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " 127.0.0.1:%d", rc->nodes[i].port);
        at += (size_t)snprintf(rc->url + at, sizeof(rc->url) - at, "%s127.0.0.1:%d", i ? "," : "",
                               rc->nodes[i].port);
    }
    strcat(cmd, " --cluster-replicas 0 --cluster-yes >/dev/null 2>&1");
    if (system(cmd) != 0) {
        redis_cluster_cleanup(rc);
        return -1;
    }
    for (int i = 0; i < 1000 && !redis_cluster_agrees(rc); i++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!redis_cluster_agrees(rc)) {
        redis_cluster_cleanup(rc);
        return -1;
    }
    return 0;
}

void redis_cluster_cleanup(struct redis_cluster *rc)
{
    for (int i = 0; i < rc->n; i++)
        redis_server_cleanup(&rc->nodes[i]);
}
