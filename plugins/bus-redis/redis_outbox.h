/* The outage buffer of bus-redis: every message this worker publishes, in
 * order, from the moment it is published until Redis answered its PUBLISH.
 *
 * Messages go in lanes: one lane for a single Redis (or the master of a
 * sentinel set), one per hash slot on a cluster, where a slot's channels
 * live on one master at a time.  Within a lane, messages are sent in order
 * on one connection and answered in that order.  A message is first
 * "waiting" (not sent on the current link), then "in flight" (sent,
 * unanswered), and leaves the buffer when Redis answers it: only an answer
 * proves that Redis took it.  When the links are lost, what was in flight
 * waits again and is sent again, first, on the next ones (the receivers
 * drop what they got twice, by sequence number: redis_dedup.h).  When a
 * cluster node answers that a lane's slot moved (MOVED), the lane stops
 * sending until every message in flight on it is answered, then sends them
 * all again, in order, to the new master: a lane never reorders.
 *
 * An answered message may be kept keep_answered_ms longer (sentinel: what
 * an old master took just before a failover may be lost with it), and put
 * back in its lane, ahead of the rest, by redis_outbox_replay.  While the
 * links are down the window stops moving: what was answered in the last
 * keep_answered_ms before the loss is kept until redis_outbox_replay, or
 * redis_outbox_keep_answered(ob, 0) once the same master is back.
 *
 * Bounds: max_events messages, max_bytes bytes of envelopes, and max_age_ms
 * since a message was published; past any of them the oldest messages are
 * dropped (those not answered yet counted in `dropped`).  Each message
 * carries its envelope (the worker's id, its sequence number, the payload:
 * redis_envelope.h) ready to send.  Pure bookkeeping: no I/O, no clock
 * (callers pass now). */
#ifndef SBR_BUS_REDIS_OUTBOX_H
#define SBR_BUS_REDIS_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct redis_outbox_entry {
    struct redis_outbox_entry *lane_next;     /* next unanswered entry of its lane */
    struct redis_outbox_entry *older, *newer; /* every entry held, by publication */
    uint64_t seq;
    uint64_t queued_ms;    /* when it was published */
    uint64_t answered_ms;  /* when Redis answered it (answered only) */
    uint32_t lane;
    int answered;          /* kept for a replay */
    const char *channel;   /* the Redis channel, NUL-terminated */
    size_t channel_len;
    const char *envelope;  /* what is published on it */
    size_t envelope_len;
    char data[];           /* channel, NUL, envelope */
};

struct redis_outbox_lane {
    struct redis_outbox_entry *head, *tail; /* unanswered, oldest first */
    struct redis_outbox_entry *waiting;     /* first one not sent on the current link, or NULL */
    uint32_t redirected;                    /* from head: answered MOVED, to send again */
    uint32_t in_flight;                     /* after those: sent and unanswered */
    uint32_t answers_to_skip;               /* answers owed to entries dropped while in flight */
    uint32_t link;                          /* what redis_outbox_sent named the link (0: none) */
};

struct redis_outbox {
    struct redis_outbox_entry *oldest, *newest;
    struct redis_outbox_lane *lanes;
    size_t n_lanes;
    size_t count;            /* entries held (answered ones kept included) */
    size_t bytes;            /* their envelopes' bytes */
    size_t unanswered;       /* entries Redis has not answered */
    uint64_t next_seq;
    size_t max_events;
    size_t max_bytes;
    uint64_t max_age_ms;
    uint64_t keep_answered_ms; /* 0: an answered entry leaves at once */
    uint64_t keep_from_ms;   /* not 0: keep every entry answered since then, whatever its age */
    uint64_t dropped;        /* unanswered entries dropped past the bounds */
};

/* n_lanes >= 1; -1 when out of memory. */
int redis_outbox_init(struct redis_outbox *ob, size_t n_lanes, size_t max_events, size_t max_bytes,
                      uint64_t max_age_ms);
/* Free every entry (what they carried is lost) and the lanes. */
void redis_outbox_clear(struct redis_outbox *ob);
/* Append a message for channel in lane: its envelope is origin
 * (REDIS_ENVELOPE_ID_LEN bytes), the next sequence number, then the
 * payload.  Then drop the oldest entries past the bounds (the new one last
 * of all).  Returns 0, or -1 when out of memory (nothing changed). */
int redis_outbox_push(struct redis_outbox *ob, uint32_t lane, const char *origin, const char *channel,
                      const char *payload, size_t len, uint64_t now);
/* Drop the oldest entries past the bounds at now; returns how many
 * unanswered ones. */
size_t redis_outbox_trim(struct redis_outbox *ob, uint64_t now);
/* The lane's oldest waiting entry (to send next), or NULL: none, or the
 * lane waits for the answers to a redirection. */
struct redis_outbox_entry *redis_outbox_next(const struct redis_outbox *ob, uint32_t lane);
/* The entry redis_outbox_next gave was sent on the current link, named
 * `link` (not 0: a cluster node, for redis_outbox_rewind_link). */
void redis_outbox_sent(struct redis_outbox *ob, uint32_t lane, uint32_t link);
/* Redis answered the lane's oldest entry in flight: it leaves the buffer
 * (or is kept keep_answered_ms, answered). */
void redis_outbox_answered(struct redis_outbox *ob, uint32_t lane, uint64_t now);
/* The lane's oldest entry in flight was answered with a redirection: it
 * waits again.  Returns 1 when no entry of the lane is in flight any more:
 * the lane may be sent again (to its new master), from its oldest entry. */
int redis_outbox_redirected(struct redis_outbox *ob, uint32_t lane);
/* The links are gone: everything in flight waits again, in its order,
 * ahead of the rest. */
void redis_outbox_rewind(struct redis_outbox *ob);
/* One link is gone (a cluster node): the lanes in flight on it only. */
void redis_outbox_rewind_link(struct redis_outbox *ob, uint32_t link);
/* The answered entries kept wait again, each ahead of its lane's others,
 * and the rest as after redis_outbox_rewind.  Returns how many. */
size_t redis_outbox_replay(struct redis_outbox *ob);
/* The links are lost at now: keep what was answered since now -
 * keep_answered_ms until further notice; 0 (the same master is back): age
 * them out again. */
void redis_outbox_keep_answered(struct redis_outbox *ob, uint64_t now);

#endif
