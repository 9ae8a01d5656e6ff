/* A subscriber connection read by hand (see redis_sublink.h). */
#include "redis_sublink.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

struct redis_sublink_ping {
    struct redis_sublink_ping *next;
    redis_sublink_pong_fn fn;
    void *arg;
};

struct redis_sublink {
    struct bufferevent *bev;
    redisReader *reader;
    redis_sublink_reply_fn on_reply;
    redis_sublink_lost_fn on_lost;
    void *arg;
    struct redis_sublink_ping *pings, **pings_tail;
    int dispatching; /* inside one of our callbacks: free later */
    int closed;      /* redis_sublink_close was called */
    int lost;        /* on_lost was called */
};

static void redis_sublink_free(struct redis_sublink *l)
{
    while (l->pings) {
        struct redis_sublink_ping *p = l->pings;
        l->pings = p->next;
        free(p);
    }
    if (l->bev)
        bufferevent_free(l->bev);
    if (l->reader)
        redisReaderFree(l->reader);
    free(l);
}

void redis_sublink_close(struct redis_sublink *l)
{
    if (!l || l->closed)
        return;
    l->closed = 1;
    if (!l->dispatching)
        redis_sublink_free(l);
}

static void redis_sublink_lose(struct redis_sublink *l, const char *reason)
{
    if (l->lost || l->closed)
        return;
    l->lost = 1;
    l->on_lost(l, reason, l->arg);
}

/* "PONG", or ["pong", ...] from a subscribed connection. */
static int redis_sublink_is_pong(const redisReply *r)
{
    if (r->type == REDIS_REPLY_STATUS)
        return strcasecmp(r->str, "PONG") == 0;
    return r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING &&
           strcasecmp(r->element[0]->str, "pong") == 0;
}

static void redis_sublink_dispatch(struct redis_sublink *l, redisReply *reply)
{
    if (l->pings && redis_sublink_is_pong(reply)) {
        struct redis_sublink_ping *p = l->pings;
        l->pings = p->next;
        if (!l->pings)
            l->pings_tail = &l->pings;
        p->fn(l, p->arg);
        free(p);
        return;
    }
    l->on_reply(l, reply, l->arg);
}

/* Hand what arrived to the parser, chunk by chunk, without copying it
 * into one block first.  -1 when the parser refuses it. */
static int redis_sublink_feed(struct redis_sublink *l, struct evbuffer *in)
{
    struct evbuffer_iovec v[16];
    int n = evbuffer_peek(in, -1, NULL, v, 16);
    size_t fed = 0;
    for (int i = 0; i < n && i < 16; i++) {
        if (redisReaderFeed(l->reader, v[i].iov_base, v[i].iov_len) != REDIS_OK)
            return -1;
        fed += v[i].iov_len;
    }
    evbuffer_drain(in, fed);
    return 0;
}

static void redis_sublink_read(struct bufferevent *bev, void *arg)
{
    struct redis_sublink *l = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    l->dispatching = 1;
    while (!l->closed && evbuffer_get_length(in) > 0) {
        int fed = redis_sublink_feed(l, in);
        void *reply;
        while (fed == 0 && !l->closed && redisReaderGetReply(l->reader, &reply) == REDIS_OK && reply) {
            redis_sublink_dispatch(l, reply);
            freeReplyObject(reply);
        }
        if (fed != 0 || l->reader->err) {
            char reason[160];
            snprintf(reason, sizeof(reason), "unreadable reply: %s", l->reader->err ? l->reader->errstr : "no memory");
            redis_sublink_lose(l, reason);
            break;
        }
    }
    l->dispatching = 0;
    if (l->closed)
        redis_sublink_free(l);
}

static void redis_sublink_event(struct bufferevent *bev, short what, void *arg)
{
    struct redis_sublink *l = arg;
    if (what & BEV_EVENT_CONNECTED)
        return;
    char reason[200];
    int err = EVUTIL_SOCKET_ERROR();
    if (what & BEV_EVENT_EOF)
        snprintf(reason, sizeof(reason), "closed by the server");
    else
        snprintf(reason, sizeof(reason), "%s", err ? evutil_socket_error_to_string(err) : "connection failed");
    l->dispatching = 1;
    redis_sublink_lose(l, reason);
    l->dispatching = 0;
    if (l->closed)
        redis_sublink_free(l);
}

static int redis_sublink_address(struct sockaddr_storage *ss, socklen_t *len, const char *address, int port,
                                 const char *unix_path)
{
    memset(ss, 0, sizeof(*ss));
    if (unix_path) {
        struct sockaddr_un *un = (struct sockaddr_un *)ss;
        if (strlen(unix_path) >= sizeof(un->sun_path))
            return -1;
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, unix_path);
        *len = sizeof(*un);
        return 0;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*in6);
    } else {
        return -1;
    }
    return 0;
}

struct redis_sublink *redis_sublink_open(struct event_base *base, const char *address, int port,
                                         const char *unix_path, redis_sublink_reply_fn on_reply,
                                         redis_sublink_lost_fn on_lost, void *arg)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (redis_sublink_address(&ss, &sslen, address, port, unix_path) != 0)
        return NULL;
    struct redis_sublink *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->on_reply = on_reply;
    l->on_lost = on_lost;
    l->arg = arg;
    l->pings_tail = &l->pings;
    l->reader = redisReaderCreate();
    l->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!l->reader || !l->bev) {
        redis_sublink_free(l);
        return NULL;
    }
    bufferevent_setcb(l->bev, redis_sublink_read, NULL, redis_sublink_event, l);
    bufferevent_enable(l->bev, EV_READ | EV_WRITE);
    /* A refusal on loopback may be reported at once, through the event
     * callback, or as -1 here: both end in on_lost, later or now. */
    if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&ss, (int)sslen) != 0) {
        redis_sublink_free(l);
        return NULL;
    }
    return l;
}

int redis_sublink_send(struct redis_sublink *l, int argc, const char **argv, const size_t *lens)
{
    char *cmd;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0)
        return -1;
    int rc = bufferevent_write(l->bev, cmd, (size_t)len);
    redisFreeCommand(cmd);
    return rc == 0 ? 0 : -1;
}

int redis_sublink_ping(struct redis_sublink *l, redis_sublink_pong_fn fn, void *arg)
{
    struct redis_sublink_ping *p = malloc(sizeof(*p));
    if (!p)
        return -1;
    const char *argv[1] = {"PING"};
    size_t lens[1] = {4};
    if (redis_sublink_send(l, 1, argv, lens) != 0) {
        free(p);
        return -1;
    }
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    *l->pings_tail = p;
    l->pings_tail = &p->next;
    return 0;
}
