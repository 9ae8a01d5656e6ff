/* The connections to write at the end of the loop turn and the frames held
 * for them (see ws_turn.h). */
#include "ws/ws_turn.h"

#include <stdint.h>
#include <stdlib.h>
#include <event2/buffer.h>
#include "ws/ws_output.h"

#define WS_TURN_NONE UINT32_MAX

struct ws_turn_held {
    struct ws_turn_frame f;
    uint32_t next; /* the connection's next frame, or WS_TURN_NONE */
};

/* A connection on the list; ws->dirty is 1 + its index. */
struct ws_turn_entry {
    struct ws_conn *ws; /* NULL: taken off the list */
    uint32_t first, last;
    size_t bytes;
};

static struct ws_turn_entry *turn_entries;
static size_t turn_n_entries, turn_cap_entries;
static struct ws_turn_held *turn_held;
static size_t turn_n_held, turn_cap_held;
static size_t turn_walk;                 /* the next entry the writer takes */
static size_t turn_current = SIZE_MAX;   /* the entry being written */
/* The writer runs at the loop's lowest priority: after every other
 * callback that is ready, including those that become ready on the
 * following iterations (a bus answer, a deferred reply), so that what a
 * chain of callbacks sends to one socket goes out in one write.  Under a
 * load that never leaves the loop idle the deadline runs it anyway. */
static struct event *turn_flush_ev, *turn_deadline_ev;
#define WS_TURN_DEADLINE_US 1000

/* Room for one more element in *array; 0 or -1. */
static int turn_grow(void **array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t want = *cap ? *cap * 2 : 256;
    if (want >= WS_TURN_NONE)
        return -1;
    void *grown = realloc(*array, want * size);
    if (!grown)
        return -1;
    *array = grown;
    *cap = want;
    return 0;
}

static struct ws_turn_entry *turn_entry_of(const struct ws_conn *ws)
{
    return ws->dirty ? &turn_entries[ws->dirty - 1] : NULL;
}

int ws_turn_init(struct event_base *base, event_callback_fn flush)
{
    if (turn_flush_ev)
        return 0;
    turn_flush_ev = event_new(base, -1, 0, flush, NULL);
    turn_deadline_ev = evtimer_new(base, flush, NULL);
    if (!turn_flush_ev || !turn_deadline_ev) {
        ws_turn_free();
        return -1;
    }
    int priorities = event_base_get_npriorities(base);
    if (priorities > 1)
        event_priority_set(turn_flush_ev, priorities - 1);
    return 0;
}

void ws_turn_free(void)
{
    if (turn_flush_ev)
        event_free(turn_flush_ev);
    if (turn_deadline_ev)
        event_free(turn_deadline_ev);
    turn_flush_ev = turn_deadline_ev = NULL;
    free(turn_entries);
    free(turn_held);
    turn_entries = NULL;
    turn_held = NULL;
    turn_n_entries = turn_cap_entries = turn_n_held = turn_cap_held = turn_walk = 0;
    turn_current = SIZE_MAX;
}

int ws_turn_mark(struct ws_conn *ws)
{
    if (ws->dirty)
        return 0;
    if (turn_grow((void **)&turn_entries, &turn_cap_entries, turn_n_entries, sizeof(*turn_entries)) != 0)
        return -1;
    if (turn_n_entries == 0) {
        static const struct timeval deadline = {0, WS_TURN_DEADLINE_US};
        event_active(turn_flush_ev, EV_TIMEOUT, 0);
        evtimer_add(turn_deadline_ev, &deadline);
    }
    turn_entries[turn_n_entries] = (struct ws_turn_entry){ws, WS_TURN_NONE, WS_TURN_NONE, 0};
    ws->dirty = (uint32_t)++turn_n_entries;
    return 0;
}

int ws_turn_hold(struct ws_conn *ws, const struct ws_turn_frame *f)
{
    if (turn_grow((void **)&turn_held, &turn_cap_held, turn_n_held, sizeof(*turn_held)) != 0 ||
        ws_turn_mark(ws) != 0)
        return -1;
    struct ws_turn_entry *e = turn_entry_of(ws);
    uint32_t i = (uint32_t)turn_n_held++;
    turn_held[i] = (struct ws_turn_held){*f, WS_TURN_NONE};
    if (e->last == WS_TURN_NONE)
        e->first = i;
    else
        turn_held[e->last].next = i;
    e->last = i;
    e->bytes += f->len;
    return 0;
}

size_t ws_turn_held_bytes(const struct ws_conn *ws)
{
    const struct ws_turn_entry *e = turn_entry_of(ws);
    return e ? e->bytes : 0;
}

int ws_turn_take(struct ws_conn *ws, struct evbuffer *out)
{
    struct ws_turn_entry *e = turn_entry_of(ws);
    if (!e)
        return 0;
    int rc = 0;
    for (uint32_t i = e->first; i != WS_TURN_NONE; i = turn_held[i].next) {
        const struct ws_turn_frame *f = &turn_held[i].f;
        if (rc == 0 && (!out || evbuffer_add_reference(out, f->data, f->len, f->release, f->arg) != 0))
            rc = -1;
        if (rc != 0)
            f->release(f->data, f->len, f->arg);
    }
    e->first = e->last = WS_TURN_NONE;
    e->bytes = 0;
    return rc;
}

void ws_turn_drop(struct ws_conn *ws)
{
    struct ws_turn_entry *e = turn_entry_of(ws);
    if (!e)
        return;
    ws_turn_take(ws, NULL);
    e->ws = NULL;
    ws->dirty = 0;
}

/* Done with the entry being written: off the list, unless frames were held
 * for it after the writer's last look (then it goes to the end, again). */
static void turn_finish_current(void)
{
    if (turn_current == SIZE_MAX)
        return;
    struct ws_turn_entry *e = &turn_entries[turn_current];
    turn_current = SIZE_MAX;
    struct ws_conn *ws = e->ws;
    if (!ws)
        return;
    if (e->first == WS_TURN_NONE ||
        turn_grow((void **)&turn_entries, &turn_cap_entries, turn_n_entries, sizeof(*turn_entries)) != 0) {
        ws_turn_drop(ws); /* what is still held, if memory ran out, is lost */
        return;
    }
    e = &turn_entries[ws->dirty - 1]; /* the array may have moved */
    turn_entries[turn_n_entries] = *e;
    e->ws = NULL;
    ws->dirty = (uint32_t)++turn_n_entries;
}

struct ws_conn *ws_turn_next(void)
{
    turn_finish_current();
    while (turn_walk < turn_n_entries) {
        size_t i = turn_walk++;
        if (turn_entries[i].ws) {
            turn_current = i;
            return turn_entries[i].ws;
        }
    }
    /* Every entry was written: the arrays serve the next turn, and the
     * writer's other trigger is called off. */
    turn_n_entries = turn_n_held = turn_walk = 0;
    event_del(turn_flush_ev);
    event_del(turn_deadline_ev);
    return NULL;
}

size_t ws_turn_iov(const struct ws_conn *ws, struct iovec *iov, size_t max)
{
    const struct ws_turn_entry *e = turn_entry_of(ws);
    size_t n = 0;
    for (uint32_t i = e ? e->first : WS_TURN_NONE; i != WS_TURN_NONE && n < max; i = turn_held[i].next) {
        iov[n].iov_base = (void *)turn_held[i].f.data;
        iov[n].iov_len = turn_held[i].f.len;
        n++;
    }
    return n;
}

void ws_turn_written(struct ws_conn *ws, size_t n)
{
    struct ws_turn_entry *e = turn_entry_of(ws);
    if (!e)
        return;
    e->bytes -= n < e->bytes ? n : e->bytes;
    while (e->first != WS_TURN_NONE && n) {
        struct ws_turn_frame *f = &turn_held[e->first].f;
        if (n < f->len) {
            f->data = (const char *)f->data + n;
            f->len -= n;
            return;
        }
        n -= f->len;
        f->release(f->data, f->len, f->arg);
        e->first = turn_held[e->first].next;
    }
    if (e->first == WS_TURN_NONE)
        e->last = WS_TURN_NONE;
}
