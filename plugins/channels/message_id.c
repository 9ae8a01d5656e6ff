/* Message ids (see message_id.h for the layout and the worker numbers). */
#include "message_id.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_ID_EPOCH_MS 1704067200000ull
#define MESSAGE_ID_SEQUENCE_MAX 4095u

static void message_id_try(struct message_id *ids, unsigned number);

static void message_id_written(const sbr_state_reply *reply, void *userdata)
{
    (void)reply;
    (void)userdata;
}

/* Who holds the number, next to its reservation and for as long. */
static void message_id_record_holder(struct message_id *ids)
{
    char key[64];
    snprintf(key, sizeof key, "channels:worker:%u:holder", ids->worker);
    ids->api->kv_set(key, ids->holder, strlen(ids->holder), MESSAGE_ID_CLAIM_MS, message_id_written, NULL);
}

static void message_id_claimed(const sbr_state_reply *reply, void *userdata)
{
    struct message_id *ids = userdata;
    unsigned number = (ids->worker + ids->attempts) % MESSAGE_ID_WORKERS;
    if (reply->status != SBR_OK) {
        ids->claiming = 0;
        ids->api->log(ids->self, SBR_LOG_WARN, "cannot claim a worker number for message ids; keeping %u", ids->worker);
        return;
    }
    if (reply->acquired) {
        ids->claiming = 0;
        ids->worker = number;
        message_id_record_holder(ids);
        return;
    }
    if (++ids->attempts >= MESSAGE_ID_WORKERS) {
        ids->claiming = 0;
        ids->api->log(ids->self, SBR_LOG_WARN, "every worker number for message ids is taken; keeping %u", ids->worker);
        return;
    }
    message_id_try(ids, (ids->worker + ids->attempts) % MESSAGE_ID_WORKERS);
}

static void message_id_try(struct message_id *ids, unsigned number)
{
    char key[48];
    snprintf(key, sizeof key, "channels:worker:%u", number);
    if (ids->api->reserve(key, MESSAGE_ID_CLAIM_MS, message_id_claimed, ids) != SBR_OK)
        ids->claiming = 0;
}

/* Try the numbers from worker + offset on. */
static void message_id_begin(struct message_id *ids, unsigned offset)
{
    if (ids->claiming)
        return;
    ids->claiming = 1;
    ids->attempts = offset;
    message_id_try(ids, (ids->worker + offset) % MESSAGE_ID_WORKERS);
}

void message_id_claim(struct message_id *ids)
{
    /* Start past the number in use: it is still ours and cannot be re-reserved. */
    message_id_begin(ids, 1);
}

static void message_id_rotate(void *userdata)
{
    message_id_claim(userdata);
}

int message_id_start(struct message_id *ids, sbr_plugin *self, const sbr_api *api)
{
    /* FNV-1a of the identity: workers start on different numbers. */
    uint32_t seed = 2166136261u;
    ids->holder = api->worker_id();
    for (const char *c = ids->holder; *c; c++)
        seed = (seed ^ (unsigned char)*c) * 16777619u;
    ids->self = self;
    ids->api = api;
    ids->worker = seed % MESSAGE_ID_WORKERS;
    ids->claiming = 0;
    ids->last_ms = 0;
    ids->sequence = 0;
    message_id_begin(ids, 0);
    ids->timer = api->timer_start(self, MESSAGE_ID_CLAIM_MS / 2, 1, message_id_rotate, ids);
    return ids->timer ? 0 : -1;
}

void message_id_next(struct message_id *ids, char *out)
{
    uint64_t now = ids->api->now_ms();
    if (now < MESSAGE_ID_EPOCH_MS)
        now = MESSAGE_ID_EPOCH_MS;
    if (now > ids->last_ms) {
        ids->last_ms = now;
        ids->sequence = 0;
    } else if (++ids->sequence > MESSAGE_ID_SEQUENCE_MAX) {
        /* 4096 ids in one millisecond: borrow the next one. */
        ids->last_ms++;
        ids->sequence = 0;
    }
    uint64_t id = (((ids->last_ms - MESSAGE_ID_EPOCH_MS) & ((1ull << 41) - 1)) << 22) |
                  ((uint64_t)ids->worker << 12) | ids->sequence;
    snprintf(out, MESSAGE_ID_TEXT_MAX, "%" PRIu64, id);
}
