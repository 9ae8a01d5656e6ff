#include "local_rooms.h"

#include "deadline_heap.h"
#include "strtab.h"

#include <stdlib.h>
#include <string.h>

struct room_event {
    uint64_t offset;
    size_t len;
    const char *packet; /* in text, after the except */
    char text[];        /* the except, NUL, the packet, NUL */
};

struct room_log {
    char *topic;                /* also the strtab key */
    struct room_event **ring;
    size_t cap, head, count;    /* ring[(head + i) % cap], oldest first */
    uint64_t trimmed;           /* highest offset dropped past the cap */
    struct deadline_item expiry;/* keep_ms after the last append */
};

struct local_rooms {
    strtab *logs;
    struct deadline_heap expiries;
    uint64_t seq;
    uint64_t floor; /* an event delivered unlogged (out of memory) took this
                     * offset: no replay from below it is complete */
    size_t events;
};

local_rooms *local_rooms_new(void)
{
    local_rooms *lr = calloc(1, sizeof(*lr));
    if (!lr || !(lr->logs = strtab_new())) {
        free(lr);
        return NULL;
    }
    deadline_heap_init(&lr->expiries);
    return lr;
}

static void room_log_free(void *p)
{
    struct room_log *log = p;
    for (size_t i = 0; i < log->count; i++)
        free(log->ring[(log->head + i) % log->cap]);
    free(log->ring);
    free(log->topic);
    free(log);
}

void local_rooms_free(local_rooms *lr)
{
    if (!lr)
        return;
    strtab_free(lr->logs, room_log_free);
    deadline_heap_free(&lr->expiries);
    free(lr);
}

static struct room_log *room_log_get(local_rooms *lr, const char *topic)
{
    struct room_log *log = strtab_get(lr->logs, topic);
    if (log)
        return log;
    log = calloc(1, sizeof(*log));
    if (!log || !(log->topic = strdup(topic)) || strtab_insert(lr->logs, log->topic, log) != 0) {
        if (log)
            free(log->topic);
        free(log);
        return NULL;
    }
    log->expiry.index = DEADLINE_NONE;
    return log;
}

static void room_log_drop(local_rooms *lr, struct room_log *log)
{
    deadline_heap_remove(&lr->expiries, &log->expiry);
    strtab_remove(lr->logs, log->topic);
    lr->events -= log->count;
    room_log_free(log);
}

/* Room for one more event under max_events (the ring grows to the cap). */
static int room_log_make_room(local_rooms *lr, struct room_log *log, size_t max_events)
{
    while (log->count && log->count >= max_events) {
        struct room_event *old = log->ring[log->head];
        log->trimmed = old->offset;
        free(old);
        log->head = (log->head + 1) % log->cap;
        log->count--;
        lr->events--;
    }
    if (log->count < log->cap)
        return 0;
    size_t cap = log->cap ? log->cap * 2 : 4;
    if (cap > max_events)
        cap = max_events;
    struct room_event **ring = malloc(cap * sizeof(*ring));
    if (!ring)
        return -1;
    for (size_t i = 0; i < log->count; i++)
        ring[i] = log->ring[(log->head + i) % log->cap];
    free(log->ring);
    log->ring = ring;
    log->cap = cap;
    log->head = 0;
    return 0;
}

uint64_t local_rooms_append(local_rooms *lr, const char *topic, const char *data, size_t len, const char *except,
                            uint64_t max_events, uint64_t keep_ms, uint64_t now_ms)
{
    if (!except)
        except = "";
    size_t elen = strlen(except);
    struct room_log *log = room_log_get(lr, topic);
    struct room_event *ev = log ? malloc(sizeof(*ev) + elen + 1 + len + 1) : NULL;
    if (!ev || room_log_make_room(lr, log, max_events ? (size_t)max_events : 1) != 0) {
        free(ev);
        if (log && !log->count)
            room_log_drop(lr, log);
        if (!lr->seq)
            lr->seq = now_ms * 1000u;
        lr->floor = ++lr->seq;
        return 0;
    }
    if (!lr->seq)
        lr->seq = now_ms * 1000u;
    ev->offset = ++lr->seq;
    ev->len = len;
    memcpy(ev->text, except, elen + 1);
    char *packet = ev->text + elen + 1;
    memcpy(packet, data, len);
    packet[len] = '\0';
    ev->packet = packet;
    log->ring[(log->head + log->count) % log->cap] = ev;
    log->count++;
    lr->events++;
    log->expiry.deadline = now_ms + keep_ms;
    if (log->expiry.index == DEADLINE_NONE)
        deadline_heap_push(&lr->expiries, &log->expiry);
    else
        deadline_heap_update(&lr->expiries, &log->expiry);
    return ev->offset;
}

static const struct room_event *room_log_at(const struct room_log *log, size_t i)
{
    return log->ring[(log->head + i) % log->cap];
}

/* The first event of log above after (binary search: offsets increase). */
static size_t room_log_after(const struct room_log *log, uint64_t after)
{
    size_t lo = 0, hi = log->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (room_log_at(log, mid)->offset <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct replay_item {
    const struct room_event *ev;
    size_t topic;
};

static int replay_by_offset(const void *a, const void *b)
{
    uint64_t x = ((const struct replay_item *)a)->ev->offset, y = ((const struct replay_item *)b)->ev->offset;
    return x < y ? -1 : x > y;
}

/* Gather the events above `after` of every topic; complete unless a log
 * was trimmed past it, an event went unlogged after it, or there are more
 * than max_total.  -1 without memory. */
static int replay_gather(local_rooms *lr, const sbr_room_replay *req, struct replay_item **items, size_t *n,
                         int *complete)
{
    size_t total = 0;
    *complete = req->after >= lr->floor;
    for (size_t t = 0; t < req->n_topics; t++) {
        const struct room_log *log = strtab_get(lr->logs, req->topics[t]);
        if (log && log->trimmed > req->after)
            *complete = 0;
        if (log)
            total += log->count - room_log_after(log, req->after);
    }
    if (!*complete || total > req->max_total) {
        *complete = 0;
        return 0;
    }
    *items = total ? malloc(total * sizeof(**items)) : NULL;
    if (total && !*items)
        return -1;
    for (size_t t = 0; t < req->n_topics; t++) {
        const struct room_log *log = strtab_get(lr->logs, req->topics[t]);
        for (size_t i = log ? room_log_after(log, req->after) : 0; log && i < log->count; i++)
            (*items)[(*n)++] = (struct replay_item){room_log_at(log, i), t};
    }
    if (*n > 1)
        qsort(*items, *n, sizeof(**items), replay_by_offset);
    return 0;
}

int local_rooms_answer_alloc(struct local_rooms_answer *out, size_t n)
{
    memset(out, 0, sizeof(*out));
    if (!n)
        return 0;
    out->offsets = malloc(n * sizeof(*out->offsets));
    out->topics = malloc(n * sizeof(*out->topics));
    out->excepts = malloc(n * sizeof(*out->excepts));
    out->packets = malloc(n * sizeof(*out->packets));
    out->lens = malloc(n * sizeof(*out->lens));
    return out->offsets && out->topics && out->excepts && out->packets && out->lens ? 0 : -1;
}

int local_rooms_replay(local_rooms *lr, const sbr_room_replay *request, uint64_t now_ms,
                       struct local_rooms_answer *out)
{
    memset(out, 0, sizeof(*out));
    local_rooms_purge(lr, now_ms);
    struct replay_item *items = NULL;
    size_t n = 0;
    int complete;
    if (replay_gather(lr, request, &items, &n, &complete) != 0 || local_rooms_answer_alloc(out, n) != 0) {
        free(items);
        local_rooms_answer_clear(out);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        out->offsets[i] = items[i].ev->offset;
        out->topics[i] = items[i].topic;
        out->excepts[i] = items[i].ev->text;
        out->packets[i] = items[i].ev->packet;
        out->lens[i] = items[i].ev->len;
    }
    free(items);
    out->reply = (sbr_room_replay_reply){
        .struct_size = sizeof(out->reply),
        .status = SBR_OK,
        .complete = complete,
        .last = lr->seq,
        .n = n,
        .offsets = out->offsets,
        .topics = out->topics,
        .excepts = (const char *const *)out->excepts,
        .packets = (const char *const *)out->packets,
        .lens = out->lens,
    };
    return 0;
}

void local_rooms_answer_clear(struct local_rooms_answer *a)
{
    free(a->offsets);
    free(a->topics);
    free(a->excepts);
    free(a->packets);
    free(a->lens);
    memset(a, 0, sizeof(*a));
}

void local_rooms_purge(local_rooms *lr, uint64_t now_ms)
{
    struct deadline_item *top;
    while ((top = deadline_heap_top(&lr->expiries)) && top->deadline <= now_ms) {
        struct room_log *log = (struct room_log *)((char *)top - offsetof(struct room_log, expiry));
        room_log_drop(lr, log);
    }
}

uint64_t local_rooms_next_deadline(const local_rooms *lr)
{
    const struct deadline_item *top = deadline_heap_top(&lr->expiries);
    return top ? top->deadline : 0;
}

uint64_t local_rooms_last(const local_rooms *lr)
{
    return lr->seq;
}

size_t local_rooms_count(const local_rooms *lr)
{
    return strtab_count(lr->logs);
}

size_t local_rooms_events(const local_rooms *lr)
{
    return lr->events;
}
