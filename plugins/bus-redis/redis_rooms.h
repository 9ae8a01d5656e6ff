/* The room log's commands over Redis (private to bus-redis: redis_rooms.c
 * and redis_rooms_replay.c).  Every command goes through one queue, in
 * order: it waits until the SUBSCRIBEs sent before it are answered (so a
 * room event this worker publishes is heard back by it, and a replay reads
 * the logs only once their live events are sure to come), then is sent to
 * the master of the room log's slot (redis_route_command: one server, the
 * sentinels' master, or a cluster's master of {rlog}); the answers come
 * back in order. */
#ifndef SBR_BUS_REDIS_ROOMS_H
#define SBR_BUS_REDIS_ROOMS_H

#include "bus_redis.h"

/* The hash tag of the room log's keys (one slot for all of them). */
#define REDIS_ROOMS_SPACE "{rlog}:"

enum redis_rooms_kind { REDIS_ROOMS_PUBLISH, REDIS_ROOMS_REPLAY, REDIS_ROOMS_FLUSH, REDIS_ROOMS_FLOOR };

struct redis_rooms_cmd {
    struct redis_rooms_cmd *next;
    struct bus_redis *br;
    enum redis_rooms_kind kind;
    uint64_t need;          /* sub_acked this must see before it is sent */
    uint64_t queued_ms;     /* monotonic: a replay or flush waiting too long fails */
    void *userdata;
    /* publish */
    char *topic, *except, *packet;
    size_t len;
    unsigned flags;
    uint64_t oseq, max_events, keep_ms;
    /* replay */
    sbr_room_replay request;
    char **topics;
    sbr_room_replay_fn replay_done;
    /* flush */
    sbr_state_done_fn flush_done;
    uint64_t token;
};

struct redis_rooms {
    struct redis_rooms_cmd *head, **tail; /* waiting to be sent, oldest first */
    struct redis_rooms_cmd *resend, **resend_tail; /* publishes whose link died unanswered */
    struct redis_rooms_cmd *markers;      /* flushes sent, waiting for their marker */
    char origin[REDIS_ENVELOPE_ID_LEN + 1]; /* the worker id padded with '#': its own dedup series */
    char anchor[REDIS_ENVELOPE_ID_LEN + 16]; /* the topic of this worker's flush markers */
    char master[REDIS_HOST_MAX + 8]; /* the node that last answered: another one may have lost offsets */
    char *counter;          /* the sequencer's key, and this worker's dedup series' (built once) */
    char *origin_key;
    size_t counter_len, origin_key_len;
    uint32_t slot;          /* of the room log's keys */
    uint64_t next_oseq;
    uint64_t next_token;
    uint64_t hwm;           /* highest offset received */
    uint64_t keep_ms;       /* the longest keep_ms asked: the floor lives that long */
    int gap;                /* published without offsets: raise the floor when back */
    int floor_pending;      /* the floor is being raised */
    sbr_timer_id wait_timer;
};

/* Queue a command (taking it) and send what may go. */
void redis_rooms_queue(struct bus_redis *br, struct redis_rooms_cmd *cmd);
void redis_rooms_cmd_free(struct redis_rooms_cmd *cmd);
/* Answer a replay or flush that will not be sent: status only. */
void redis_rooms_cmd_fail(struct redis_rooms_cmd *cmd);
/* The room log's key of a name under REDIS_ROOMS_SPACE (malloc'd). */
char *redis_rooms_key(const struct bus_redis *br, const char *name, size_t *len);

/* redis_rooms_replay.c: send a replay's script; answer it. */
int redis_rooms_replay_send(struct bus_redis *br, struct redis_rooms_cmd *cmd, redis_route_fn fn);
void redis_rooms_replay_answer(struct redis_rooms_cmd *cmd, const redisReply *reply);

#endif
