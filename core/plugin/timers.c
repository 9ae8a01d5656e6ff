/* Plugin timers on the core's event loop.  A timer may stop itself from its
 * own callback, so a firing timer is only marked and freed after it returns. */
#include "plugin/plugin.h"

#include <event2/event.h>
#include <stdlib.h>


struct timer {
    struct timer *next;
    sbr_plugin *owner;
    sbr_timer_id id;
    struct event *ev;
    void (*fn)(void *);
    void *userdata;
    int repeat;
    int firing;
    int stopped;
};

static struct timer *timers_list;
static sbr_timer_id timers_next_id = 1;
static struct event_base *timers_base;

void timers_init(struct event_base *base)
{
    timers_base = base;
}

static void timers_unlink(struct timer *t)
{
    for (struct timer **pp = &timers_list; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    event_free(t->ev);
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
    if (!fn || !timers_base)
        return 0;
    struct timer *t = calloc(1, sizeof(*t));
    if (!t)
        return 0;
    t->ev = event_new(timers_base, -1, repeat ? EV_PERSIST : 0, timers_fire, t);
    if (!t->ev) {
        free(t);
        return 0;
    }
    if (repeat && delay_ms == 0)
        delay_ms = 1; /* a zero-period repeating timer would starve the loop */
    struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000)};
    if (event_add(t->ev, &tv) < 0) {
        event_free(t->ev);
        free(t);
        return 0;
    }
    t->owner = owner;
    t->id = timers_next_id++;
    t->fn = fn;
    t->userdata = userdata;
    t->repeat = repeat;
    t->next = timers_list;
    timers_list = t;
    return t->id;
}

void timers_stop(sbr_plugin *owner, sbr_timer_id id)
{
    for (struct timer *t = timers_list; t; t = t->next) {
        if (t->id != id || t->owner != owner)
            continue;
        event_del(t->ev);
        if (t->firing)
            t->stopped = 1;
        else
            timers_unlink(t);
        return;
    }
}

void timers_unregister_all(sbr_plugin *owner)
{
    struct timer **pp = &timers_list;
    while (*pp) {
        struct timer *t = *pp;
        if (t->owner != owner || t->firing) {
            if (t->owner == owner) {
                event_del(t->ev);
                t->stopped = 1;
            }
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        event_free(t->ev);
        free(t);
    }
}
