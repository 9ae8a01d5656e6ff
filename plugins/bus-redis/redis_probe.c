/* A one-shot question to a server that is not a node: a sentinel (which
 * master?) or a cluster seed (which slots?).  Its own connection, AUTH if
 * asked, one command, one answer (or an error) within connect_timeout_ms,
 * then the connection is closed. */
#include "bus_redis.h"

#include <hiredis/adapters/libevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* End the probe: done gets the answer or the error; the connection goes
 * (freed by hiredis after the callback when inside one). */
static void redis_probe_finish(struct redis_probe *p, redisReply *reply, const char *error)
{
    redisAsyncContext *ac = p->ac;
    p->ac = NULL;
    p->busy = 0;
    if (p->timer) {
        p->br->api->timer_stop(p->br->self, p->timer);
        p->timer = 0;
    }
    redis_resolve_cancel(&p->resolving);
    p->done(p, reply, error);
    if (ac)
        redisAsyncFree(ac);
}

void redis_probe_stop(struct redis_probe *p)
{
    if (!p->busy)
        return;
    redisAsyncContext *ac = p->ac;
    p->ac = NULL;
    p->busy = 0;
    if (p->timer) {
        p->br->api->timer_stop(p->br->self, p->timer);
        p->timer = 0;
    }
    redis_resolve_cancel(&p->resolving);
    if (ac)
        redisAsyncFree(ac);
}

static void redis_probe_timeout(void *arg)
{
    struct redis_probe *p = arg;
    p->timer = 0;
    char error[100];
    snprintf(error, sizeof(error), "no answer within %llu ms (connect_timeout_ms)",
             (unsigned long long)p->br->connect_timeout_ms);
    redis_probe_finish(p, NULL, error);
}

static void redis_probe_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct redis_probe *p = ac->data;
    redisReply *reply = r;
    if (ac != p->ac || !p->busy)
        return;
    if (!reply) {
        redis_probe_finish(p, NULL, ac->errstr[0] ? ac->errstr : "connection lost");
        return;
    }
    if (privdata && reply->type == REDIS_REPLY_ERROR) { /* the AUTH */
        char error[300];
        snprintf(error, sizeof(error), "AUTH failed: %s", reply->str);
        redis_probe_finish(p, NULL, error);
        return;
    }
    if (!privdata)
        redis_probe_finish(p, reply, NULL);
}

static void redis_probe_on_connect(const redisAsyncContext *ac, int status)
{
    struct redis_probe *p = ac->data;
    if (status == REDIS_OK || ac != p->ac)
        return;
    p->ac = NULL; /* hiredis frees it once this returns */
    redis_probe_finish(p, NULL, ac->errstr[0] ? ac->errstr : "cannot connect");
}

static void redis_probe_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct redis_probe *p = ac->data;
    if (ac != p->ac)
        return;
    p->ac = NULL;
    redis_probe_finish(p, NULL, status == REDIS_OK || !ac->errstr[0] ? "closed by the server" : ac->errstr);
}

static void redis_probe_connect(void *arg, const char *address, const char *error)
{
    struct redis_probe *p = arg;
    if (!address) {
        redis_probe_finish(p, NULL, error);
        return;
    }
    snprintf(p->address, sizeof(p->address), "%s", address);
    redisAsyncContext *ac = redisAsyncConnect(p->address, p->port);
    if (!ac || ac->err) {
        char why[300];
        snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        redis_probe_finish(p, NULL, why);
        return;
    }
    ac->data = p;
    p->ac = ac;
    redisLibeventAttach(ac, p->br->api->event_base());
    redisAsyncSetConnectCallback(ac, redis_probe_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_probe_on_disconnect);
    if (p->password) {
        const char *argv[3] = {"AUTH", p->user ? p->user : p->password, p->password};
        size_t lens[3] = {4, strlen(argv[1]), strlen(argv[2])};
        redisAsyncCommandArgv(ac, redis_probe_reply, p, p->user ? 3 : 2, argv, lens);
    }
    size_t lens[4];
    for (int i = 0; i < p->argc; i++)
        lens[i] = strlen(p->argv[i]);
    redisAsyncCommandArgv(ac, redis_probe_reply, NULL, p->argc, p->argv, lens);
}

void redis_probe_start(struct redis_probe *p, const char *host, int port)
{
    p->busy = 1;
    snprintf(p->host, sizeof(p->host), "%s", host);
    p->port = port;
    p->timer = p->br->api->timer_start(p->br->self, p->br->connect_timeout_ms, 0, redis_probe_timeout, p);
    redis_resolve(p->br, p->host, &p->resolving, redis_probe_connect, p);
}
