/* The life of the links: find the nodes (the URL's server, the master the
 * sentinels name, or a cluster's masters), connect every node's two links
 * on the core's loop, notice failures (refused, closed, handshake error, no
 * answer in time), fall back to in-process and retry with capped
 * exponential backoff.  The bus is usable only while every node is: a
 * cluster counts as one backend, and losing one of its masters is an
 * outage like losing a single server.  Every change of state is reported
 * once through api->bus_set_state. */
#include "bus_redis.h"

#include <arpa/inet.h>
#include <event2/util.h>
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

/* Close every link.  A context inside its own callback is freed by hiredis
 * once the callback returns; pending commands are then answered with NULL,
 * which sends them to the in-process store. */
static void redis_link_close(struct bus_redis *br)
{
    br->closing = 1; /* what the pending callbacks do cannot fail the links again */
    br->usable = 0;
    br->connecting = 0;
    redis_probe_stop(&br->probe);
    redis_link_stop_timer(br, &br->connect_timer);
    redis_link_stop_timer(br, &br->watchdog_timer);
    redis_link_stop_timer(br, &br->reap_timer);
    for (int i = 0; i < br->n_nodes; i++)
        redis_node_close(br->nodes[i]);
    br->refreshing = 0;
    br->refresh_again = 0;
    redis_route_clear(br);
    redis_pubsub_lost(br);
    redis_rooms_lost(br);
    redis_publish_lost(br);
    redis_receive_hold(br, 0);
    redis_health_update(br);
    br->closing = 0;
}

static void redis_link_retry(void *userdata)
{
    struct bus_redis *br = userdata;
    br->retry_timer = 0;
    redis_link_start(br);
}

/* Close, report, and schedule the next attempt in delay_ms. */
static void redis_link_down(struct bus_redis *br, const char *reason, uint64_t delay_ms)
{
    redis_link_close(br);
    if (!br->down_since_ms)
        br->down_since_ms = redis_link_monotonic_ms();
    br->attempts++;
    char detail[600];
    snprintf(detail, sizeof(detail),
             "Redis at %s unusable: %s; serving from in-process state, reconnecting with backoff up to %llu ms",
             br->url_text, reason, (unsigned long long)br->reconnect_max_ms);
    if (br->state != SBR_BUS_DOWN)
        redis_link_report(br, SBR_BUS_DOWN, detail);
    else
        br->api->log(br->self, SBR_LOG_DEBUG, "attempt %u: %s", br->attempts, detail);
    br->retry_timer = br->api->timer_start(br->self, delay_ms, 0, redis_link_retry, br);
}

void redis_link_fail(struct bus_redis *br, const char *reason)
{
    if (br->unloading || br->retry_timer || br->closing)
        return;
    /* Up to a quarter off, so workers that lost Redis together do not all
     * knock at the same instant. */
    br->jitter = br->jitter * 6364136223846793005ULL + 1442695040888963407ULL;
    uint64_t delay = br->backoff_ms - (br->jitter >> 33) % (br->backoff_ms / 4 + 1);
    br->backoff_ms = br->backoff_ms * 2 > br->reconnect_max_ms ? br->reconnect_max_ms : br->backoff_ms * 2;
    redis_link_down(br, reason, delay);
}

void redis_link_fail_now(struct bus_redis *br, const char *reason)
{
    if (br->unloading || br->closing)
        return;
    redis_link_stop_timer(br, &br->retry_timer);
    br->backoff_ms = REDIS_LINK_FIRST_BACKOFF_MS;
    redis_link_down(br, reason, 0);
}

static void redis_link_connected(struct bus_redis *br)
{
    redis_link_stop_timer(br, &br->connect_timer);
    br->usable = 1;
    br->connecting = 0;
    br->backoff_ms = REDIS_LINK_FIRST_BACKOFF_MS;
    char detail[500];
    if (br->ever_connected) {
        snprintf(detail, sizeof(detail), "reconnected to Redis at %s after %u failed attempt%s", br->url_text,
                 br->attempts, br->attempts == 1 ? "" : "s");
        if (br->api->metric_add)
            br->api->metric_add(br->self, "superbot_bus_redis_reconnects_total", NULL, 1);
    } else {
        snprintf(detail, sizeof(detail), "connected to Redis at %s", br->url_text);
    }
    size_t at = strlen(detail);
    if (br->mode == REDIS_MODE_SENTINEL)
        snprintf(detail + at, sizeof(detail) - at, " (master %s)", br->nodes[0]->name);
    else if (br->mode == REDIS_MODE_CLUSTER)
        snprintf(detail + at, sizeof(detail) - at, " (%zu masters)", br->map->n_nodes);
    br->ever_connected = 1;
    br->attempts = 0;
    if (br->mode == REDIS_MODE_SENTINEL) {
        redis_replay_switched(br);
        redis_sentinel_connected(br);
    }
    /* Subscribed already (the handshakes' last answers).  On the command
     * links, in this order: what this worker missed, the state it changed
     * while Redis was away, what it could not publish; then whatever the
     * plugins do on hearing that Redis is back, and new traffic. */
    redis_receive_catch_up(br);
    redis_writeback_flush(br);
    /* Room events in flight when Redis went away were published before
     * what waited in the outage buffer; the floor goes after it. */
    redis_rooms_resend(br);
    redis_publish_flush(br);
    if (br->refresh_again) { /* a slot moved while connecting */
        br->refresh_again = 0;
        redis_cluster_refresh(br);
    }
    redis_rooms_connected(br);
    br->down_since_ms = 0;
    redis_health_update(br);
    redis_link_report(br, SBR_BUS_CONNECTED, detail);
}

static void redis_link_connect_timeout(void *userdata);

static int redis_link_all_ready(const struct bus_redis *br)
{
    for (int i = 0; i < br->n_nodes; i++)
        if (br->nodes[i]->in_use && !br->nodes[i]->ready)
            return 0;
    return 1;
}

void redis_link_node_ready(struct bus_redis *br)
{
    redis_health_update(br);
    if (br->usable) {
        /* A master added to a cluster in use: what waited for it goes. */
        if (redis_link_all_ready(br))
            redis_link_stop_timer(br, &br->connect_timer);
        redis_pubsub_rehome(br);
        redis_publish_resume(br);
        return;
    }
    if (br->connecting && redis_link_all_ready(br))
        redis_link_connected(br);
}

void redis_link_watch_new_nodes(struct bus_redis *br)
{
    if (!br->connect_timer)
        br->connect_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_link_connect_timeout, br);
}

static void redis_link_reap_later(void *userdata)
{
    struct bus_redis *br = userdata;
    br->reap_timer = 0;
    redis_link_reap(br);
}

/* Close the nodes no longer in use (masters that left a cluster) once
 * nothing they were sent waits for an answer; look again later for the others. */
void redis_link_reap(struct bus_redis *br)
{
    int waiting = 0;
    for (int i = 0; i < br->n_nodes; i++) {
        struct redis_node *node = br->nodes[i];
        if (node->in_use || (!node->cmd && !node->sub && !node->resolving))
            continue;
        if (node->inflight) {
            waiting = 1;
            continue;
        }
        br->api->log(br->self, SBR_LOG_INFO, "%s is no longer a master of the cluster: its links are closed",
                     node->name);
        redis_cluster_node_lost(node, NULL); /* its subscriptions too */
    }
    if (waiting && !br->reap_timer && !br->unloading)
        br->reap_timer = br->api->timer_start(br->self, 200, 0, redis_link_reap_later, br);
}

static void redis_link_connect_timeout(void *userdata)
{
    struct bus_redis *br = userdata;
    br->connect_timer = 0;
    char reason[REDIS_HOST_MAX + 100] = "";
    for (int i = 0; i < br->n_nodes && !reason[0]; i++)
        if (br->nodes[i]->in_use && !br->nodes[i]->ready)
            snprintf(reason, sizeof(reason), "%s: no answer within %llu ms (connect_timeout_ms)",
                     br->nodes[i]->name, (unsigned long long)br->connect_timeout_ms);
    redis_link_fail(br, reason[0] ? reason : "no answer within connect_timeout_ms");
}

void redis_link_connect_nodes(struct bus_redis *br)
{
    br->connecting = 1;
    redis_receive_hold(br, 1);
    br->connect_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_link_connect_timeout, br);
    for (int i = 0; i < br->n_nodes && br->connecting; i++)
        if (br->nodes[i]->in_use)
            redis_node_open(br->nodes[i]);
    redis_health_update(br);
}

void redis_link_start(struct bus_redis *br)
{
    if (br->unloading)
        return;
    br->api->log(br->self, SBR_LOG_DEBUG, "connecting to Redis at %s", br->url_text);
    if (br->mode == REDIS_MODE_SENTINEL) {
        redis_sentinel_discover(br);
        return;
    }
    if (br->mode == REDIS_MODE_CLUSTER) {
        redis_cluster_discover(br);
        return;
    }
    struct redis_node *node = br->n_nodes ? br->nodes[0]
                                          : redis_node_get(br, br->url.socket_path ? br->url.socket_path : br->url.host,
                                                           br->url.socket_path ? 0 : br->url.port);
    if (!node) {
        redis_link_fail(br, "out of memory");
        return;
    }
    node->in_use = 1;
    redis_link_connect_nodes(br);
}

void redis_link_init(struct bus_redis *br)
{
    /* Workers that lost Redis together draw different jitters. */
    br->jitter = 14695981039346656037ULL;
    for (const char *c = br->worker_id; *c; c++)
        br->jitter = (br->jitter ^ (unsigned char)*c) * 1099511628211ULL;
}

void redis_link_stop(struct bus_redis *br)
{
    /* Send what other plugins queued while unloading (their last presence
     * removals, say) as far as the sockets take it without blocking. */
    for (int i = 0; i < br->n_nodes; i++)
        if (br->usable && br->nodes[i]->cmd)
            redisAsyncHandleWrite(br->nodes[i]->cmd);
    if (!br->usable && br->outbox.unanswered)
        br->api->log(br->self, SBR_LOG_WARN, "%zu message(s) kept while Redis was away are lost: it is still away",
                     br->outbox.unanswered);
    br->unloading = 1;
    redis_link_stop_timer(br, &br->retry_timer);
    redis_sentinel_stop(br);
    redis_link_close(br);
    if (br->dns) {
        evdns_base_free(br->dns, 0);
        br->dns = NULL;
    }
}

/* The node whose oldest unanswered command waited longest, and how long. */
static struct redis_node *redis_link_slowest(struct bus_redis *br, uint64_t *idle)
{
    struct redis_node *slowest = NULL;
    uint64_t now = redis_link_monotonic_ms();
    *idle = 0;
    for (int i = 0; i < br->n_nodes; i++) {
        struct redis_node *n = br->nodes[i];
        if (!n->inflight || !n->cmd)
            continue;
        uint64_t waited = now - n->last_progress_ms;
        if (!slowest || waited > *idle) {
            slowest = n;
            *idle = waited;
        }
    }
    return slowest;
}

/* Redis that accepts commands but never answers (stopped, overloaded,
 * partitioned) counts as down: the oldest unanswered command may wait
 * connect_timeout_ms since the last answer of its node. */
static void redis_link_watchdog(void *userdata)
{
    struct bus_redis *br = userdata;
    br->watchdog_timer = 0;
    /* Answers may sit unread when the loop itself was busy: read them
     * before judging Redis (reading may end the links). */
    for (int i = 0; i < br->n_nodes && br->usable; i++)
        if (br->nodes[i]->inflight && br->nodes[i]->cmd)
            redisAsyncHandleRead(br->nodes[i]->cmd);
    uint64_t idle;
    struct redis_node *slowest = redis_link_slowest(br, &idle);
    if (!slowest || !br->usable || br->watchdog_timer)
        return;
    if (idle >= br->connect_timeout_ms) {
        char reason[REDIS_HOST_MAX + 100];
        snprintf(reason, sizeof(reason), "%s: no answer for %llu ms", slowest->name, (unsigned long long)idle);
        redis_link_fail(br, reason);
        return;
    }
    br->watchdog_timer = br->api->timer_start(br->self, br->connect_timeout_ms - idle, 0, redis_link_watchdog, br);
}

void redis_link_sent(struct redis_node *node)
{
    struct bus_redis *br = node->br;
    if (node->inflight++ == 0)
        node->last_progress_ms = redis_link_monotonic_ms();
    if (!br->watchdog_timer)
        br->watchdog_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_link_watchdog, br);
}

void redis_link_answered(struct redis_node *node)
{
    if (node->inflight)
        node->inflight--;
    node->last_progress_ms = redis_link_monotonic_ms();
}
