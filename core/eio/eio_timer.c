/* Per-duration FIFO lists of session timers: see eio_timer.h. */
#include <stdlib.h>
#include "clock.h"
#include "eio/eio_internal.h"
#include "eio/eio_timer.h"

struct eio_timer_list {
    uint64_t duration_ms;
    struct eio_session *head, *tail;
};

/* A reload of the heartbeat settings adds a list; the lists of older values
 * empty out within their duration and are reused. */
#define EIO_TIMER_LISTS 16

static struct eio_timer_list lists[EIO_TIMER_LISTS];
static struct event *timer_ev;
static uint64_t timer_armed_for; /* deadline timer_ev is armed for, 0: none */
static void (*timer_fire)(struct eio_session *s);

static void timer_schedule(void)
{
    uint64_t first = 0;
    for (size_t i = 0; i < EIO_TIMER_LISTS; i++)
        if (lists[i].head && (!first || lists[i].head->deadline < first))
            first = lists[i].head->deadline;
    if (first == timer_armed_for)
        return;
    timer_armed_for = first;
    if (!first) {
        event_del(timer_ev);
        return;
    }
    uint64_t now = clock_monotonic_ms();
    uint64_t ms = first > now ? first - now : 0;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(timer_ev, &tv);
}

static void timer_unlink(struct eio_session *s)
{
    struct eio_timer_list *l = &lists[s->timer_list - 1];
    if (s->tprev)
        s->tprev->tnext = s->tnext;
    else
        l->head = s->tnext;
    if (s->tnext)
        s->tnext->tprev = s->tprev;
    else
        l->tail = s->tprev;
    s->tprev = s->tnext = NULL;
    s->timer_list = 0;
}

static void timer_on_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    timer_armed_for = 0;
    /* Due timers fire in deadline order across the lists; what a handler
     * arms is due at least a millisecond after now, so it waits for a
     * later pass. */
    uint64_t now = clock_monotonic_ms();
    for (;;) {
        struct eio_timer_list *first = NULL;
        for (size_t i = 0; i < EIO_TIMER_LISTS; i++)
            if (lists[i].head && lists[i].head->deadline <= now &&
                (!first || lists[i].head->deadline < first->head->deadline))
                first = &lists[i];
        if (!first)
            break;
        struct eio_session *s = first->head;
        timer_unlink(s);
        timer_fire(s);
    }
    timer_schedule();
}

int eio_timer_init(struct event_base *base, void (*fire)(struct eio_session *s))
{
    timer_fire = fire;
    timer_armed_for = 0;
    timer_ev = evtimer_new(base, timer_on_fire, NULL);
    return timer_ev ? 0 : -1;
}

void eio_timer_free(void)
{
    for (size_t i = 0; i < EIO_TIMER_LISTS; i++)
        lists[i] = (struct eio_timer_list){0};
    if (timer_ev)
        event_free(timer_ev);
    timer_ev = NULL;
}

static struct eio_timer_list *timer_list_for(uint64_t ms)
{
    struct eio_timer_list *empty = NULL;
    for (size_t i = 0; i < EIO_TIMER_LISTS; i++) {
        if (lists[i].duration_ms == ms)
            return &lists[i];
        if (!empty && !lists[i].head)
            empty = &lists[i];
    }
    if (empty)
        empty->duration_ms = ms;
    return empty;
}

void eio_timer_cancel(struct eio_session *s)
{
    if (!s->timer_list)
        return;
    int was_first = s->tprev == NULL;
    timer_unlink(s);
    if (was_first)
        timer_schedule();
}

void eio_timer_arm(struct eio_session *s, uint64_t ms)
{
    if (ms == 0)
        ms = 1;
    eio_timer_cancel(s);
    s->deadline = clock_monotonic_ms() + ms;
    struct eio_timer_list *l = timer_list_for(ms);
    if (!l) {
        /* Every list holds another duration still in use (many reloads
         * within one ping interval): share the nearest one, in order. */
        l = &lists[0];
        for (size_t i = 1; i < EIO_TIMER_LISTS; i++) {
            uint64_t d = lists[i].duration_ms > ms ? lists[i].duration_ms - ms : ms - lists[i].duration_ms;
            uint64_t best = l->duration_ms > ms ? l->duration_ms - ms : ms - l->duration_ms;
            if (d < best)
                l = &lists[i];
        }
    }
    /* Kept in deadline order: with one duration per list, the tail. */
    struct eio_session *after = l->tail;
    while (after && after->deadline > s->deadline)
        after = after->tprev;
    s->tprev = after;
    s->tnext = after ? after->tnext : l->head;
    if (s->tnext)
        s->tnext->tprev = s;
    else
        l->tail = s;
    if (after)
        after->tnext = s;
    else
        l->head = s;
    s->timer_list = (uint8_t)(l - lists + 1);
    if (l->head == s)
        timer_schedule();
}
