/* The outage buffer (see redis_outbox.h). */
#include "redis_outbox.h"

#include "redis_envelope.h"

#include <stdlib.h>
#include <string.h>

void redis_outbox_init(struct redis_outbox *ob, size_t max_events, size_t max_bytes, uint64_t max_age_ms)
{
    memset(ob, 0, sizeof(*ob));
    ob->max_events = max_events;
    ob->max_bytes = max_bytes;
    ob->max_age_ms = max_age_ms;
}

static void redis_outbox_drop_head(struct redis_outbox *ob)
{
    struct redis_outbox_entry *e = ob->head;
    ob->head = e->next;
    if (!ob->head)
        ob->tail = NULL;
    if (ob->waiting == e) {
        ob->waiting = e->next;
    } else if (ob->in_flight) {
        /* Its answer will still come, and must not retire a later entry. */
        ob->in_flight--;
        ob->answers_to_skip++;
    }
    ob->count--;
    ob->bytes -= e->envelope_len;
    free(e);
}

void redis_outbox_clear(struct redis_outbox *ob)
{
    while (ob->head)
        redis_outbox_drop_head(ob);
    ob->in_flight = 0;
    ob->answers_to_skip = 0;
}

static int redis_outbox_over(const struct redis_outbox *ob, uint64_t now)
{
    if (!ob->head)
        return 0;
    return ob->count > ob->max_events || ob->bytes > ob->max_bytes ||
           (now > ob->head->queued_ms && now - ob->head->queued_ms > ob->max_age_ms);
}

size_t redis_outbox_trim(struct redis_outbox *ob, uint64_t now)
{
    size_t dropped = 0;
    while (redis_outbox_over(ob, now)) {
        redis_outbox_drop_head(ob);
        dropped++;
    }
    ob->dropped += dropped;
    return dropped;
}

int redis_outbox_push(struct redis_outbox *ob, const char *origin, const char *channel, const char *payload,
                      size_t len, uint64_t now)
{
    size_t chlen = strlen(channel);
    struct redis_outbox_entry *e = malloc(sizeof(*e) + chlen + 1 + REDIS_ENVELOPE_HEAD + len);
    if (!e)
        return -1;
    e->next = NULL;
    e->seq = ++ob->next_seq;
    e->queued_ms = now;
    memcpy(e->data, channel, chlen + 1);
    e->channel = e->data;
    e->channel_len = chlen;
    char *envelope = e->data + chlen + 1;
    redis_envelope_head(envelope, origin, e->seq);
    if (len)
        memcpy(envelope + REDIS_ENVELOPE_HEAD, payload, len);
    e->envelope = envelope;
    e->envelope_len = REDIS_ENVELOPE_HEAD + len;
    if (ob->tail)
        ob->tail->next = e;
    else
        ob->head = e;
    ob->tail = e;
    if (!ob->waiting)
        ob->waiting = e;
    ob->count++;
    ob->bytes += e->envelope_len;
    redis_outbox_trim(ob, now);
    return 0;
}

struct redis_outbox_entry *redis_outbox_next(const struct redis_outbox *ob)
{
    return ob->waiting;
}

void redis_outbox_sent(struct redis_outbox *ob)
{
    if (!ob->waiting)
        return;
    ob->waiting = ob->waiting->next;
    ob->in_flight++;
}

void redis_outbox_answered(struct redis_outbox *ob)
{
    if (ob->answers_to_skip) {
        ob->answers_to_skip--;
        return;
    }
    if (!ob->in_flight || !ob->head)
        return;
    struct redis_outbox_entry *e = ob->head;
    ob->head = e->next;
    if (!ob->head)
        ob->tail = NULL;
    ob->in_flight--;
    ob->count--;
    ob->bytes -= e->envelope_len;
    free(e);
}

void redis_outbox_rewind(struct redis_outbox *ob)
{
    ob->waiting = ob->head;
    ob->in_flight = 0;
    ob->answers_to_skip = 0;
}
