/* The worker registry: this worker's address advertised in the shared state
 * under "eio:worker:<id>" with a TTL it keeps refreshing, and the other
 * workers' addresses looked up there and cached.  It uses the bus's state
 * calls (a sideways call: the bus never calls Engine.IO). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>
#include <event2/util.h>

#include "bus.h"
#include "clock.h"
#include "log.h"
#include "eio/eio_relay.h"

#define WORKER_KEY_PREFIX "eio:worker:"
/* The advertised address lives this long unless refreshed; it is refreshed
 * every WORKER_REFRESH_MS, and retried every WORKER_RETRY_MS until the
 * shared state first accepts it. */
#define WORKER_TTL_MS 15000
#define WORKER_REFRESH_MS 5000
#define WORKER_RETRY_MS 200
/* Worker addresses remembered; a worker id names one process for its whole
 * life, so an entry is only dropped when its worker stops answering. */
#define PEER_CACHE_MAX 256

/* A kv lookup in flight for one worker id (one per id at a time). */
struct lookup {
    char id[WORKER_ID_LEN + 1];
    struct lookup *next;
};

static struct {
    struct eio_peer *list;
    size_t n;
    struct lookup *lookups;
    eio_peers_looked_up done;
    struct event *register_timer;
    char advertised[128];
    int registered;
    unsigned ticks;
    int running;               /* between start and free: lookups may answer */
} peers;

struct eio_peer *eio_peers_find(const char *id)
{
    for (struct eio_peer *p = peers.list; p; p = p->next)
        if (memcmp(p->id, id, WORKER_ID_LEN) == 0)
            return p;
    return NULL;
}

static void peer_free(struct eio_peer *p)
{
    eio_pool_clear(&p->pool);
    free(p);
}

void eio_peers_forget(const char *id)
{
    for (struct eio_peer **pp = &peers.list; *pp; pp = &(*pp)->next) {
        if (memcmp((*pp)->id, id, WORKER_ID_LEN) == 0) {
            struct eio_peer *p = *pp;
            *pp = p->next;
            peer_free(p);
            peers.n--;
            return;
        }
    }
}

/* Drop the oldest (the tail): it is looked up again if needed. */
static void peer_drop_oldest(void)
{
    struct eio_peer **pp = &peers.list;
    while ((*pp)->next)
        pp = &(*pp)->next;
    peer_free(*pp);
    *pp = NULL;
    peers.n--;
}

static void peer_remember(const char *id, const char *address, size_t len)
{
    char text[128];
    if (len >= sizeof(text))
        return;
    memcpy(text, address, len);
    text[len] = '\0';
    struct sockaddr_storage ss;
    int sl = (int)sizeof(ss);
    if (evutil_parse_sockaddr_port(text, (struct sockaddr *)&ss, &sl) != 0)
        return;
    eio_peers_forget(id);
    if (peers.n >= PEER_CACHE_MAX)
        peer_drop_oldest();
    struct eio_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return;
    memcpy(p->id, id, WORKER_ID_LEN);
    memcpy(&p->addr, &ss, (size_t)sl);
    p->addr_len = sl;
    snprintf(p->text, sizeof(p->text), "%s", text);
    p->next = peers.list;
    peers.list = p;
    peers.n++;
}

/* --- lookups --------------------------------------------------------------- */

static void lookup_unlink(struct lookup *l)
{
    for (struct lookup **pp = &peers.lookups; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            return;
        }
    }
}

static void lookup_done(const sbr_state_reply *reply, void *userdata)
{
    struct lookup *l = userdata;
    if (!peers.running)
        return; /* shut down: eio_peers_free freed l already */
    lookup_unlink(l);
    if (reply && reply->status == SBR_OK && reply->found && reply->value)
        peer_remember(l->id, reply->value, reply->value_len);
    char id[WORKER_ID_LEN + 1];
    memcpy(id, l->id, sizeof(id));
    free(l);
    peers.done(id);
}

void eio_peers_lookup(const char *id)
{
    for (struct lookup *l = peers.lookups; l; l = l->next)
        if (memcmp(l->id, id, WORKER_ID_LEN) == 0)
            return;
    struct lookup *l = calloc(1, sizeof(*l));
    if (!l) {
        char copy[WORKER_ID_LEN + 1];
        snprintf(copy, sizeof(copy), "%.*s", WORKER_ID_LEN, id);
        peers.done(copy);
        return;
    }
    memcpy(l->id, id, WORKER_ID_LEN);
    l->next = peers.lookups;
    peers.lookups = l;
    char key[sizeof(WORKER_KEY_PREFIX) + WORKER_ID_LEN];
    snprintf(key, sizeof(key), "%s%s", WORKER_KEY_PREFIX, l->id);
    if (bus_api_kv_get(key, lookup_done, l) != SBR_OK) {
        /* Refused without a callback, unless it answered already. */
        for (struct lookup *x = peers.lookups; x; x = x->next)
            if (x == l) {
                lookup_done(NULL, l);
                break;
            }
    }
}

/* --- advertising this worker ------------------------------------------------ */

static void register_done(const sbr_state_reply *reply, void *userdata)
{
    (void)userdata;
    /* Written to the in-process fallback, the address helps nobody: keep
     * retrying until the shared backend has it. */
    int ok = reply && reply->status == SBR_OK && bus_state_get() == SBR_BUS_CONNECTED;
    if (ok && !peers.registered)
        log_info("eio", "worker %s serves forwarded sessions at %s", worker_id(), peers.advertised);
    peers.registered = ok;
}

static void register_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    char key[sizeof(WORKER_KEY_PREFIX) + WORKER_ID_LEN];
    snprintf(key, sizeof(key), "%s%s", WORKER_KEY_PREFIX, worker_id());
    int rc = bus_api_kv_set(key, peers.advertised, strlen(peers.advertised), WORKER_TTL_MS, register_done, NULL);
    if (rc != SBR_OK)
        peers.registered = 0;
    uint64_t now = clock_monotonic_ms();
    for (struct eio_peer *p = peers.list; p; p = p->next)
        eio_pool_sweep(&p->pool, now);
    /* Retry quickly while the bus plugin loads and connects (its state
     * reads "disabled" until then), slowly on a bus that is in-process by
     * configuration. */
    peers.ticks++;
    int settled = rc == SBR_OK && bus_state_get() == SBR_BUS_LOCAL && peers.ticks > 50;
    uint64_t ms = peers.registered || settled ? WORKER_REFRESH_MS : WORKER_RETRY_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(peers.register_timer, &tv);
}

int eio_peers_start(struct event_base *base, const char *address, eio_peers_looked_up done)
{
    snprintf(peers.advertised, sizeof(peers.advertised), "%s", address);
    peers.done = done;
    peers.register_timer = evtimer_new(base, register_tick, NULL);
    if (!peers.register_timer)
        return -1;
    peers.running = 1;
    /* The bus plugin is not loaded yet: register from the loop. */
    struct timeval now = {0, 0};
    evtimer_add(peers.register_timer, &now);
    return 0;
}

void eio_peers_free(void)
{
    while (peers.list)
        eio_peers_forget(peers.list->id);
    /* The bus plugins are unloaded by now: no lookup will be answered. */
    while (peers.lookups) {
        struct lookup *l = peers.lookups;
        peers.lookups = l->next;
        free(l);
    }
    if (peers.register_timer)
        event_free(peers.register_timer);
    memset(&peers, 0, sizeof(peers));
}
