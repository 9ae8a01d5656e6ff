/* The outage buffer of bus-redis: every message this worker publishes, in
 * order, from the moment it is published until Redis answered its PUBLISH.
 *
 * A message is first "waiting" (not sent on the current link), then "in
 * flight" (sent, unanswered), and leaves the buffer when Redis answers it:
 * only an answer proves that Redis took it.  When the link is lost, what was
 * in flight waits again and is sent again, first, on the next link (the
 * receivers drop what they got twice, by sequence number: redis_dedup.h).
 * So a Redis that stops answering (SIGSTOP), dies, or is not there yet
 * loses nothing that fits in the bounds, and reorders nothing.
 *
 * Bounds: max_events messages, max_bytes bytes of envelopes, and max_age_ms
 * since a message was published; past any of them the oldest messages are
 * dropped and counted.  Each message carries its envelope (the worker's id,
 * its sequence number, the payload: redis_envelope.h) ready to send.
 * Pure bookkeeping: no I/O, no clock (callers pass now). */
#ifndef SBR_BUS_REDIS_OUTBOX_H
#define SBR_BUS_REDIS_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct redis_outbox_entry {
    struct redis_outbox_entry *next;
    uint64_t seq;
    uint64_t queued_ms;    /* when it was published */
    const char *channel;   /* the Redis channel, NUL-terminated */
    size_t channel_len;
    const char *envelope;  /* what is published on it */
    size_t envelope_len;
    char data[];           /* channel, NUL, envelope */
};

struct redis_outbox {
    struct redis_outbox_entry *head, *tail; /* oldest first */
    struct redis_outbox_entry *waiting;     /* first entry not sent on the current link, or NULL */
    size_t count;                           /* entries held */
    size_t bytes;                           /* their envelopes' bytes */
    size_t in_flight;                       /* entries from head on that were sent and are unanswered */
    size_t answers_to_skip;                 /* answers still owed to entries dropped while in flight */
    uint64_t next_seq;
    size_t max_events;
    size_t max_bytes;
    uint64_t max_age_ms;
    uint64_t dropped;                       /* every entry dropped past the bounds */
};

void redis_outbox_init(struct redis_outbox *ob, size_t max_events, size_t max_bytes, uint64_t max_age_ms);
/* Free every entry (what they carried is lost). */
void redis_outbox_clear(struct redis_outbox *ob);
/* Append a message for channel: its envelope is origin (REDIS_ENVELOPE_ID_LEN
 * bytes), the next sequence number, then the payload.  Then drop the oldest
 * entries past the bounds (the new one last of all).  Returns 0, or -1 when
 * out of memory (nothing changed). */
int redis_outbox_push(struct redis_outbox *ob, const char *origin, const char *channel, const char *payload,
                      size_t len, uint64_t now);
/* Drop the oldest entries past the bounds at now; returns how many. */
size_t redis_outbox_trim(struct redis_outbox *ob, uint64_t now);
/* The oldest waiting entry (to send next), or NULL. */
struct redis_outbox_entry *redis_outbox_next(const struct redis_outbox *ob);
/* The entry redis_outbox_next gave was sent on the current link. */
void redis_outbox_sent(struct redis_outbox *ob);
/* Redis answered the oldest entry in flight: it leaves the buffer. */
void redis_outbox_answered(struct redis_outbox *ob);
/* The link is gone: everything in flight waits again, in its order, ahead of the rest. */
void redis_outbox_rewind(struct redis_outbox *ob);

#endif
