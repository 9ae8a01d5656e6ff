/* The two Redis links (commands, subscriptions): connect on the core's
 * loop, handshake (AUTH, SELECT, ROLE, script loading), notice failures (refused,
 * closed, handshake error, no answer in time), fall back to in-process and
 * retry with capped exponential backoff.  Every change of state is reported
 * once through api->bus_set_state. */
#include "bus_redis.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <hiredis/adapters/libevent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define REDIS_LINK_FIRST_BACKOFF_MS 100

uint64_t redis_link_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void redis_link_report(struct bus_redis *br, int state, const char *detail)
{
    if (br->state == state)
        return;
    br->state = state;
    br->api->bus_set_state((enum sbr_bus_state)state, detail);
}

static void redis_link_stop_timer(struct bus_redis *br, sbr_timer_id *timer)
{
    if (*timer) {
        br->api->timer_stop(br->self, *timer);
        *timer = 0;
    }
}

/* Close both links.  A context inside its own callback is freed by hiredis
 * once the callback returns; pending commands are then answered with NULL,
 * which sends them to the in-process store. */
static void redis_link_close(struct bus_redis *br)
{
    redisAsyncContext *cmd = br->cmd, *sub = br->sub;
    br->cmd = NULL;
    br->sub = NULL;
    br->usable = 0;
    br->inflight = 0;
    if (br->resolving) {
        /* Cancelling calls redis_link_resolved with EVUTIL_EAI_CANCEL. */
        struct evdns_getaddrinfo_request *req = br->resolving;
        br->resolving = NULL;
        evdns_getaddrinfo_cancel(req);
    }
    redis_link_stop_timer(br, &br->connect_timer);
    redis_link_stop_timer(br, &br->watchdog_timer);
    if (cmd)
        redisAsyncFree(cmd);
    if (sub)
        redisAsyncFree(sub);
    redis_publish_lost(br);
    redis_receive_hold(br, 0);
}

static void redis_link_retry(void *userdata)
{
    struct bus_redis *br = userdata;
    br->retry_timer = 0;
    redis_link_start(br);
}

void redis_link_fail(struct bus_redis *br, const char *reason)
{
    if (br->unloading || (!br->cmd && !br->sub && br->retry_timer))
        return;
    redis_link_close(br);
    if (!br->down_since_ms)
        br->down_since_ms = redis_link_monotonic_ms();
    br->attempts++;
    char detail[512];
    snprintf(detail, sizeof(detail),
             "Redis at %s unusable: %s; serving from in-process state, reconnecting with backoff up to %llu ms",
             br->url_text, reason, (unsigned long long)br->reconnect_max_ms);
    if (br->state != SBR_BUS_DOWN)
        redis_link_report(br, SBR_BUS_DOWN, detail);
    else
        br->api->log(br->self, SBR_LOG_DEBUG, "attempt %u: %s", br->attempts, detail);
    /* Up to a quarter off, so workers that lost Redis together do not all
     * knock at the same instant. */
    br->jitter = br->jitter * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t delay = br->backoff_ms - (br->jitter >> 33) % (br->backoff_ms / 4 + 1);
    br->retry_timer = br->api->timer_start(br->self, delay, 0, redis_link_retry, br);
    br->backoff_ms = br->backoff_ms * 2 > br->reconnect_max_ms ? br->reconnect_max_ms : br->backoff_ms * 2;
}

static void redis_link_connected(struct bus_redis *br)
{
    redis_link_stop_timer(br, &br->connect_timer);
    br->usable = 1;
    br->backoff_ms = REDIS_LINK_FIRST_BACKOFF_MS;
    char detail[400];
    if (br->ever_connected) {
        snprintf(detail, sizeof(detail), "reconnected to Redis at %s after %u failed attempt%s", br->url_text,
                 br->attempts, br->attempts == 1 ? "" : "s");
        if (br->api->metric_add)
            br->api->metric_add(br->self, "superbot_bus_redis_reconnects_total", NULL, 1);
    } else {
        snprintf(detail, sizeof(detail), "connected to Redis at %s", br->url_text);
    }
    br->ever_connected = 1;
    br->attempts = 0;
    /* Subscribed already (the handshake's last answer).  On the command
     * link, in this order: what this worker missed, the state it changed
     * while Redis was away, what it could not publish; then whatever the
     * plugins do on hearing that Redis is back, and new traffic. */
    redis_receive_catch_up(br);
    redis_writeback_flush(br);
    redis_publish_flush(br);
    br->down_since_ms = 0;
    redis_link_report(br, SBR_BUS_CONNECTED, detail);
}

/* One handshake reply less on the link ac; both links done: connected. */
void redis_link_handshake_step(struct bus_redis *br, redisAsyncContext *ac)
{
    if (ac == br->cmd)
        br->cmd_handshake--;
    else if (ac == br->sub)
        br->sub_handshake--;
    if (br->cmd && br->sub && br->cmd_handshake == 0 && br->sub_handshake == 0 && !br->usable)
        redis_link_connected(br);
}

/* NULL: the link is being torn down, nothing to do.  An error: give up. */
static int redis_link_reply_ok(struct bus_redis *br, redisAsyncContext *ac, redisReply *reply, const char *what)
{
    if (!reply || (ac != br->cmd && ac != br->sub))
        return 0;
    if (reply->type == REDIS_REPLY_ERROR) {
        char reason[300];
        snprintf(reason, sizeof(reason), "%s failed: %s", what, reply->str);
        redis_link_fail(br, reason);
        return 0;
    }
    return 1;
}

static void redis_link_auth_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    if (redis_link_reply_ok(br, ac, r, "AUTH"))
        redis_link_handshake_step(br, ac);
}

static void redis_link_select_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    if (redis_link_reply_ok(br, ac, r, "SELECT"))
        redis_link_handshake_step(br, ac);
}

/* A replica (say, the old master after a failover) would refuse every
 * write: not usable.  A ROLE we may not run tells nothing: go on. */
static void redis_link_role_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    redisReply *reply = r;
    if (!reply || (ac != br->cmd && ac != br->sub))
        return;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 && reply->element[0]->type == REDIS_REPLY_STRING &&
        (strcmp(reply->element[0]->str, "slave") == 0 || strcmp(reply->element[0]->str, "replica") == 0)) {
        redis_link_fail(br, "it is a read-only replica");
        return;
    }
    redis_link_handshake_step(br, ac);
}

static void redis_link_script_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    redisReply *reply = r;
    if (!redis_link_reply_ok(br, ac, reply, "SCRIPT LOAD"))
        return;
    char *sha = privdata;
    if (reply->type == REDIS_REPLY_STRING && reply->len == 40)
        memcpy(sha, reply->str, 41);
    redis_link_handshake_step(br, ac);
}

static void redis_link_on_connect(const redisAsyncContext *ac, int status)
{
    struct bus_redis *br = ac->data;
    if (status == REDIS_OK || (ac != br->cmd && ac != br->sub))
        return;
    /* hiredis frees a context whose connect failed once this returns. */
    if (ac == br->cmd)
        br->cmd = NULL;
    else
        br->sub = NULL;
    char reason[300];
    snprintf(reason, sizeof(reason), "cannot connect: %s", ac->errstr[0] ? ac->errstr : "connection failed");
    redis_link_fail(br, reason);
}

static void redis_link_on_disconnect(const redisAsyncContext *ac, int status)
{
    struct bus_redis *br = ac->data;
    if (ac != br->cmd && ac != br->sub)
        return; /* a link we closed ourselves */
    if (ac == br->cmd)
        br->cmd = NULL;
    else
        br->sub = NULL;
    char reason[300];
    snprintf(reason, sizeof(reason), "connection lost: %s",
             status == REDIS_OK || !ac->errstr[0] ? "closed by the server" : ac->errstr);
    redis_link_fail(br, reason);
}

static void redis_link_connect_timeout(void *userdata)
{
    struct bus_redis *br = userdata;
    br->connect_timer = 0;
    char reason[100];
    snprintf(reason, sizeof(reason), "no answer within %llu ms (connect_timeout_ms)",
             (unsigned long long)br->connect_timeout_ms);
    redis_link_fail(br, reason);
}

/* Open one link and queue its handshake; hiredis sends it once connected.
 * Returns the number of handshake replies to wait for, or -1. */
static int redis_link_open(struct bus_redis *br, redisAsyncContext **slot, int commands)
{
    redisAsyncContext *ac = br->url.socket_path ? redisAsyncConnectUnix(br->url.socket_path)
                                                : redisAsyncConnect(br->address, br->url.port);
    if (!ac) {
        redis_link_fail(br, "out of memory");
        return -1;
    }
    if (ac->err) {
        char reason[300];
        snprintf(reason, sizeof(reason), "cannot connect: %s", ac->errstr);
        redisAsyncFree(ac);
        redis_link_fail(br, reason);
        return -1;
    }
    ac->data = br;
    *slot = ac;
    redisLibeventAttach(ac, br->api->event_base());
    redisAsyncSetConnectCallback(ac, redis_link_on_connect);
    redisAsyncSetDisconnectCallback(ac, redis_link_on_disconnect);
    int steps = 0;
    if (br->url.password) {
        if (br->url.user)
            redisAsyncCommand(ac, redis_link_auth_reply, NULL, "AUTH %s %s", br->url.user, br->url.password);
        else
            redisAsyncCommand(ac, redis_link_auth_reply, NULL, "AUTH %s", br->url.password);
        steps++;
    }
    if (!commands) {
        if (redis_pubsub_open(br, ac) != 0) {
            redis_link_fail(br, "out of memory");
            return -1;
        }
        return steps + 1;
    }
    redisAsyncCommand(ac, redis_link_select_reply, NULL, "SELECT %ld", br->url.db);
    redisAsyncCommand(ac, redis_link_role_reply, NULL, "ROLE");
    steps += 2;
    for (int i = 0; i < REDIS_SCRIPT_COUNT_; i++) {
        redisAsyncCommand(ac, redis_link_script_reply, br->script_sha[i], "SCRIPT LOAD %s",
                          redis_script_source((enum redis_script)i));
        steps++;
    }
    return steps;
}

/* Open both links to br->address (or the unix socket). */
static void redis_link_connect(struct bus_redis *br)
{
    redis_receive_hold(br, 1);
    int steps = redis_link_open(br, &br->cmd, 1);
    if (steps < 0)
        return;
    br->cmd_handshake = steps;
    steps = redis_link_open(br, &br->sub, 0);
    if (steps < 0)
        return;
    br->sub_handshake = steps;
}

static void redis_link_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    struct bus_redis *br = arg;
    if (result == EVUTIL_EAI_CANCEL)
        return; /* redis_link_close gave up on it */
    br->resolving = NULL;
    /* IPv4 first: "localhost" also names ::1, where Redis often does not
     * listen, and hiredis tries only the one address it is given. */
    struct evutil_addrinfo *pick = NULL;
    for (struct evutil_addrinfo *a = result == 0 ? res : NULL; a; a = a->ai_next)
        if (!pick || (a->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = a;
    const void *addr = NULL;
    if (pick)
        addr = pick->ai_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr
                                           : (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr;
    if (!addr || !inet_ntop(pick->ai_family, addr, br->address, sizeof(br->address))) {
        if (res)
            evutil_freeaddrinfo(res);
        char reason[300];
        snprintf(reason, sizeof(reason), "cannot resolve '%s': %s", br->url.host,
                 result ? evutil_gai_strerror(result) : "no address");
        redis_link_fail(br, reason);
        return;
    }
    evutil_freeaddrinfo(res);
    redis_link_connect(br);
}

/* hiredis resolves host names with a blocking getaddrinfo: resolve them
 * here first, through libevent's asynchronous resolver. */
static void redis_link_resolve(struct bus_redis *br)
{
    unsigned char probe[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, br->url.host, probe) == 1 || inet_pton(AF_INET6, br->url.host, probe) == 1 || !br->dns) {
        snprintf(br->address, sizeof(br->address), "%s", br->url.host);
        redis_link_connect(br);
        return;
    }
    struct evutil_addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    struct evdns_getaddrinfo_request *req = evdns_getaddrinfo(br->dns, br->url.host, NULL, &hints,
                                                              redis_link_resolved, br);
    /* NULL: answered at once (from /etc/hosts, or a failure), callback done. */
    if (req)
        br->resolving = req;
}

void redis_link_start(struct bus_redis *br)
{
    if (br->unloading)
        return;
    br->api->log(br->self, SBR_LOG_DEBUG, "connecting to Redis at %s", br->url_text);
    br->connect_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_link_connect_timeout, br);
    if (br->url.socket_path)
        redis_link_connect(br);
    else
        redis_link_resolve(br);
}

void redis_link_init(struct bus_redis *br)
{
    /* Workers that lost Redis together draw different jitters. */
    br->jitter = 14695981039346656037ULL;
    for (const char *c = br->worker_id; *c; c++)
        br->jitter = (br->jitter ^ (unsigned char)*c) * 1099511628211ULL;
    if (br->url.socket_path)
        return;
    unsigned char probe[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, br->url.host, probe) == 1 || inet_pton(AF_INET6, br->url.host, probe) == 1)
        return;
    br->dns = evdns_base_new(br->api->event_base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!br->dns)
        br->api->log(br->self, SBR_LOG_WARN,
                     "no DNS resolver configured (/etc/resolv.conf): '%s' is resolved by blocking lookups",
                     br->url.host);
}

void redis_link_stop(struct bus_redis *br)
{
    /* Send what other plugins queued while unloading (their last presence
     * removals, say) as far as the socket takes it without blocking. */
    if (br->usable && br->cmd)
        redisAsyncHandleWrite(br->cmd);
    else if (br->outbox.count)
        br->api->log(br->self, SBR_LOG_WARN, "%zu message(s) kept while Redis was away are lost: it is still away",
                     br->outbox.count);
    br->unloading = 1;
    redis_link_stop_timer(br, &br->retry_timer);
    redis_link_close(br);
    if (br->dns) {
        evdns_base_free(br->dns, 0);
        br->dns = NULL;
    }
}

/* Redis that accepts commands but never answers (stopped, overloaded,
 * partitioned) counts as down: the oldest unanswered command may wait
 * connect_timeout_ms since the last answer. */
static void redis_link_watchdog(void *userdata)
{
    struct bus_redis *br = userdata;
    br->watchdog_timer = 0;
    /* Answers may sit unread when the loop itself was busy: read them
     * before judging Redis. */
    if (br->inflight && br->cmd)
        redisAsyncHandleRead(br->cmd);
    if (!br->inflight || !br->usable || br->watchdog_timer)
        return;
    uint64_t idle = redis_link_monotonic_ms() - br->last_progress_ms;
    if (idle >= br->connect_timeout_ms) {
        char reason[100];
        snprintf(reason, sizeof(reason), "no answer for %llu ms", (unsigned long long)idle);
        redis_link_fail(br, reason);
        return;
    }
    br->watchdog_timer = br->api->timer_start(br->self, br->connect_timeout_ms - idle, 0, redis_link_watchdog, br);
}

void redis_link_sent(struct bus_redis *br)
{
    if (br->inflight++ == 0)
        br->last_progress_ms = redis_link_monotonic_ms();
    if (!br->watchdog_timer)
        br->watchdog_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_link_watchdog, br);
}

void redis_link_answered(struct bus_redis *br)
{
    if (br->inflight)
        br->inflight--;
    br->last_progress_ms = redis_link_monotonic_ms();
}
