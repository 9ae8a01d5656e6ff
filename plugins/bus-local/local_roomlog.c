#include "local_roomlog.h"

#include "deadline_timer.h"
#include "local_rooms.h"

#include <stdlib.h>
#include <string.h>

/* A replay or a flush waiting for the loop (the SDK promises that `done`
 * never runs before the call returns). */
struct roomlog_call {
    struct roomlog_call *next, *prev;
    local_roomlog *rl;
    sbr_timer_id timer;
    int linked;                     /* on rl->calls */
    sbr_room_replay_fn replay_done; /* a replay, or */
    sbr_state_done_fn flush_done;   /* a flush */
    void *userdata;
    sbr_room_replay request;
    char **topics;
};

struct local_roomlog {
    sbr_plugin *self;
    const sbr_api *api;
    local_rooms *rooms;
    struct deadline_timer expiry;
    struct roomlog_call *calls;
};

local_roomlog *local_roomlog_new(sbr_plugin *self, const sbr_api *api)
{
    local_roomlog *rl = calloc(1, sizeof(*rl));
    if (!rl || !(rl->rooms = local_rooms_new())) {
        free(rl);
        return NULL;
    }
    rl->self = self;
    rl->api = api;
    return rl;
}

static void roomlog_call_free(struct roomlog_call *call)
{
    local_roomlog *rl = call->rl;
    if (call->linked && call->prev)
        call->prev->next = call->next;
    else if (call->linked)
        rl->calls = call->next;
    if (call->linked && call->next)
        call->next->prev = call->prev;
    for (size_t i = 0; i < call->request.n_topics; i++)
        free(call->topics[i]);
    free(call->topics);
    free(call);
}

void local_roomlog_free(local_roomlog *rl)
{
    if (!rl)
        return;
    while (rl->calls) {
        if (rl->calls->timer)
            rl->api->timer_stop(rl->self, rl->calls->timer);
        roomlog_call_free(rl->calls);
    }
    deadline_timer_stop(&rl->expiry, rl->self, rl->api);
    local_rooms_free(rl->rooms);
    free(rl);
}

static void roomlog_expiry_fire(void *userdata);

/* One timer on the earliest log deadline: idle logs go without a read. */
static void roomlog_arm(local_roomlog *rl)
{
    deadline_timer_arm(&rl->expiry, rl->self, rl->api, local_rooms_next_deadline(rl->rooms), roomlog_expiry_fire, rl);
}

static void roomlog_expiry_fire(void *userdata)
{
    local_roomlog *rl = userdata;
    rl->expiry.id = 0;
    local_rooms_purge(rl->rooms, rl->api->now_ms());
    roomlog_arm(rl);
}

int local_roomlog_publish(local_roomlog *rl, const char *topic, const char *data, size_t len, const char *except,
                          unsigned flags, uint64_t max_events, uint64_t keep_ms)
{
    if (!rl || !topic || strncmp(topic, "room:", 5) != 0 || !data)
        return SBR_ERR_INVALID;
    if (!SBR_API_HAS(rl->api, bus_deliver_room))
        return SBR_ERR_UNAVAILABLE;
    uint64_t offset = local_rooms_append(rl->rooms, topic, data, len, except, max_events, keep_ms,
                                         rl->api->now_ms());
    if (!offset)
        return SBR_ERR_NOMEM;
    roomlog_arm(rl);
    /* One worker: delivering here is delivering everywhere, in order. */
    rl->api->bus_deliver_room(topic, offset, except, flags, data, len);
    return SBR_OK;
}

static void roomlog_call_fire(void *userdata)
{
    struct roomlog_call *call = userdata;
    local_roomlog *rl = call->rl;
    call->timer = 0;
    if (call->flush_done) {
        /* Delivered at once: everything given so far is here. */
        sbr_state_reply reply = {.struct_size = sizeof(reply), .status = SBR_OK,
                                 .count = (int64_t)local_rooms_last(rl->rooms)};
        call->flush_done(&reply, call->userdata);
    } else {
        struct local_rooms_answer answer;
        if (local_rooms_replay(rl->rooms, &call->request, rl->api->now_ms(), &answer) != 0)
            answer.reply = (sbr_room_replay_reply){.struct_size = sizeof(answer.reply), .status = SBR_ERR_NOMEM};
        call->replay_done(&answer.reply, call->userdata);
        local_rooms_answer_clear(&answer);
    }
    roomlog_call_free(call);
}

static int roomlog_call_start(local_roomlog *rl, struct roomlog_call *call)
{
    call->rl = rl;
    call->next = rl->calls;
    if (rl->calls)
        rl->calls->prev = call;
    rl->calls = call;
    call->linked = 1;
    call->timer = rl->api->timer_start(rl->self, 0, 0, roomlog_call_fire, call);
    if (call->timer)
        return SBR_OK;
    roomlog_call_free(call);
    return SBR_ERR_NOMEM;
}

int local_roomlog_replay(local_roomlog *rl, const sbr_room_replay *request, sbr_room_replay_fn done,
                         void *userdata)
{
    if (!rl || !request || !done || (request->n_topics && !request->topics))
        return SBR_ERR_INVALID;
    struct roomlog_call *call = calloc(1, sizeof(*call));
    char **topics = request->n_topics ? calloc(request->n_topics, sizeof(*topics)) : NULL;
    if (!call || (request->n_topics && !topics)) {
        free(call);
        free(topics);
        return SBR_ERR_NOMEM;
    }
    call->rl = rl;
    call->topics = topics;
    call->request = *request;
    call->request.topics = (const char *const *)topics;
    call->request.n_topics = 0;
    for (size_t i = 0; i < request->n_topics; i++, call->request.n_topics++) {
        if (!request->topics[i] || !(topics[i] = strdup(request->topics[i]))) {
            roomlog_call_free(call);
            return request->topics[i] ? SBR_ERR_NOMEM : SBR_ERR_INVALID;
        }
    }
    call->replay_done = done;
    call->userdata = userdata;
    return roomlog_call_start(rl, call);
}

int local_roomlog_flush(local_roomlog *rl, sbr_state_done_fn done, void *userdata)
{
    if (!rl || !done)
        return SBR_ERR_INVALID;
    struct roomlog_call *call = calloc(1, sizeof(*call));
    if (!call)
        return SBR_ERR_NOMEM;
    call->rl = rl;
    call->flush_done = done;
    call->userdata = userdata;
    return roomlog_call_start(rl, call);
}
