/* Plugin timers on the core's event loop.  A timer may stop itself from its
 * own callback, so a firing timer is only marked and freed after it returns.
 * Timers are found by id in a hash table (a plugin may hold one per typing
 * user: stopping one must not walk them all) and listed for unloading. */
#include "plugin/plugin.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdlib.h>

struct timer {
    struct timer *prev, *next; /* every timer */
    struct timer *id_next;     /* the hash chain of its id */
    sbr_plugin *owner;
    sbr_timer_id id;
    struct event ev;
    void (*fn)(void *);
    void *userdata;
    int repeat;
    int firing;
    int stopped;
};

static struct timer *timers_list;
static struct timer **timers_by_id;
static size_t timers_n_buckets, timers_count;
static sbr_timer_id timers_next_id = 1;
static struct event_base *timers_base;

void timers_init(struct event_base *base)
{
    timers_base = base;
}

static size_t timers_bucket(sbr_timer_id id, size_t n_buckets)
{
    return (size_t)((id * 11400714819323198485ull) >> 32) & (n_buckets - 1);
}

/* Twice the buckets once there are twice as many timers: chains stay short. */
static int timers_grow(void)
{
    if (timers_count < timers_n_buckets * 2 && timers_n_buckets)
        return 0;
    size_t n = timers_n_buckets ? timers_n_buckets * 2 : 256;
    struct timer **grown = calloc(n, sizeof(*grown));
    if (!grown)
        return timers_n_buckets ? 0 : -1; /* longer chains, still correct */
    for (struct timer *t = timers_list; t; t = t->next) {
        size_t b = timers_bucket(t->id, n);
        t->id_next = grown[b];
        grown[b] = t;
    }
    free(timers_by_id);
    timers_by_id = grown;
    timers_n_buckets = n;
    return 0;
}

static struct timer *timers_find(sbr_timer_id id)
{
    if (!timers_n_buckets)
        return NULL;
    struct timer *t = timers_by_id[timers_bucket(id, timers_n_buckets)];
    while (t && t->id != id)
        t = t->id_next;
    return t;
}

static void timers_link(struct timer *t)
{
    t->next = timers_list;
    if (timers_list)
        timers_list->prev = t;
    timers_list = t;
    size_t b = timers_bucket(t->id, timers_n_buckets);
    t->id_next = timers_by_id[b];
    timers_by_id[b] = t;
    timers_count++;
}

static void timers_unlink(struct timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        timers_list = t->next;
    if (t->next)
        t->next->prev = t->prev;
    struct timer **pp = &timers_by_id[timers_bucket(t->id, timers_n_buckets)];
    while (*pp != t)
        pp = &(*pp)->id_next;
    *pp = t->id_next;
    timers_count--;
    event_del(&t->ev);
    free(t);
}

static void timers_fire(evutil_socket_t fd, short what, void *arg)
{
    struct timer *t = arg;
    t->firing = 1;
    t->fn(t->userdata);
    t->firing = 0;
    if (t->stopped || !t->repeat)
        timers_unlink(t);
}

sbr_timer_id timers_start(sbr_plugin *owner, uint64_t delay_ms, int repeat, void (*fn)(void *), void *userdata)
{
    if (!fn || !timers_base || timers_grow() != 0)
        return 0;
    struct timer *t = calloc(1, sizeof(*t));
    if (!t)
        return 0;
    if (repeat && delay_ms == 0)
        delay_ms = 1; /* a zero-period repeating timer would starve the loop */
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    if (event_assign(&t->ev, timers_base, -1, repeat ? EV_PERSIST : 0, timers_fire, t) != 0 ||
        event_add(&t->ev, &tv) < 0) {
        free(t);
        return 0;
    }
    t->owner = owner;
    t->id = timers_next_id++;
    t->fn = fn;
    t->userdata = userdata;
    t->repeat = repeat;
    timers_link(t);
    return t->id;
}

void timers_stop(sbr_plugin *owner, sbr_timer_id id)
{
    struct timer *t = timers_find(id);
    if (!t || t->owner != owner)
        return;
    event_del(&t->ev);
    if (t->firing)
        t->stopped = 1;
    else
        timers_unlink(t);
}

void timers_unregister_all(sbr_plugin *owner)
{
    struct timer *t = timers_list;
    while (t) {
        struct timer *next = t->next;
        if (t->owner == owner && t->firing) {
            event_del(&t->ev);
            t->stopped = 1;
        } else if (t->owner == owner) {
            timers_unlink(t);
        }
        t = next;
    }
    if (!timers_list) {
        free(timers_by_id);
        timers_by_id = NULL;
        timers_n_buckets = 0;
    }
}
