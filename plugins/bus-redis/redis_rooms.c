/* The room log over Redis (see bus_redis.h and redis_rooms.h). */
#include "redis_rooms.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
/* The topic of this worker's flush markers: this + its id. */
#define REDIS_ANCHOR_TOPIC "rlog-flush:"
#define REDIS_ROOMS_MARKER "flush:"
/* The floor outlives the sessions it guards; before any publish told how
 * long those live, a day. */
#define REDIS_ROOMS_FLOOR_DEFAULT_MS (24u * 3600u * 1000u)

int redis_rooms_init(struct bus_redis *br)
{
    struct redis_rooms *rr = calloc(1, sizeof(*rr));
    if (!rr)
        return -1;
    rr->tail = &rr->head;
    rr->resend_tail = &rr->resend;
    memcpy(rr->origin, br->worker_id, REDIS_ENVELOPE_ID_LEN + 1);
    for (size_t i = 0; i < REDIS_ENVELOPE_ID_LEN; i++)
        if (rr->origin[i] == '.')
            rr->origin[i] = '#';
    snprintf(rr->anchor, sizeof(rr->anchor), REDIS_ANCHOR_TOPIC "%s", br->worker_id);
    br->rooms = rr;
    rr->counter = redis_rooms_key(br, "seq", &rr->counter_len);
    rr->origin_key = redis_rooms_key(br, rr->origin, &rr->origin_key_len);
    if (!rr->counter || !rr->origin_key)
        return -1;
    rr->slot = redis_route_slot(br, rr->counter, rr->counter_len);
    /* The flush markers come on the links the room events come on. */
    return br->url_text[0] && redis_pubsub_subscribe(br, rr->anchor) != SBR_OK ? -1 : 0;
}

void redis_rooms_log_on(void *ctx)
{
    struct bus_redis *br = ctx;
    if (!br || br->mode != REDIS_MODE_CLUSTER || br->rooms_classic)
        return;
    br->rooms_classic = 1;
    redis_pubsub_reclassify(br);
    br->api->log(br->self, SBR_LOG_INFO,
                 "connection state recovery on a cluster: room topics on classic SUBSCRIBE, sequenced on the "
                 "master of the room log's slot %u",
                 (unsigned)br->rooms->slot);
}

uint32_t redis_rooms_slot(const struct bus_redis *br)
{
    return br->rooms ? br->rooms->slot : 0;
}

int redis_rooms_is_anchor(const struct bus_redis *br, const char *topic)
{
    return br->rooms && strcmp(topic, br->rooms->anchor) == 0;
}

void redis_rooms_cmd_free(struct redis_rooms_cmd *cmd)
{
    if (!cmd)
        return;
    free(cmd->topic);
    free(cmd->except);
    free(cmd->packet);
    for (size_t i = 0; cmd->topics && i < cmd->request.n_topics; i++)
        free(cmd->topics[i]);
    free(cmd->topics);
    free(cmd);
}

void redis_rooms_cmd_fail(struct redis_rooms_cmd *cmd)
{
    if (cmd->kind == REDIS_ROOMS_REPLAY) {
        sbr_room_replay_reply reply = {.struct_size = sizeof(reply), .status = SBR_ERR_UNAVAILABLE};
        cmd->replay_done(&reply, cmd->userdata);
    } else if (cmd->kind == REDIS_ROOMS_FLUSH) {
        sbr_state_reply reply = {.struct_size = sizeof(reply), .status = SBR_ERR_UNAVAILABLE};
        cmd->flush_done(&reply, cmd->userdata);
    }
}

/* A list of commands, each failed (replays, flushes) and freed; publishes
 * are kept for resending when `keep` is given. */
static void redis_rooms_drain(struct redis_rooms_cmd *list, struct redis_rooms *keep)
{
    while (list) {
        struct redis_rooms_cmd *cmd = list;
        list = cmd->next;
        cmd->next = NULL;
        if (keep && cmd->kind == REDIS_ROOMS_PUBLISH) {
            *keep->resend_tail = cmd;
            keep->resend_tail = &cmd->next;
            continue;
        }
        redis_rooms_cmd_fail(cmd);
        redis_rooms_cmd_free(cmd);
    }
}

void redis_rooms_clear(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr)
        return;
    if (rr->wait_timer)
        br->api->timer_stop(br->self, rr->wait_timer);
    /* At unload nobody is left to hear the answers. */
    for (struct redis_rooms_cmd *lists[3] = {rr->head, rr->resend, rr->markers}, **l = lists; l < lists + 3; l++) {
        while (*l) {
            struct redis_rooms_cmd *cmd = *l;
            *l = cmd->next;
            redis_rooms_cmd_free(cmd);
        }
    }
    free(rr->counter);
    free(rr->origin_key);
    free(rr);
    br->rooms = NULL;
}

char *redis_rooms_key(const struct bus_redis *br, const char *name, size_t *len)
{
    return redis_name(br, REDIS_ROOMS_SPACE, name, len);
}

char *redis_rooms_anchor(const struct bus_redis *br, size_t *len)
{
    return redis_name(br, REDIS_CHANNEL_SPACE, br->rooms->anchor, len);
}

static int redis_rooms_route(struct bus_redis *br, int argc, const char **argv, const size_t *lens,
                             redis_route_fn fn, void *privdata)
{
    return redis_route_command(br, br->rooms->slot, argc, argv, lens, fn, privdata) == 0 ? REDIS_OK : REDIS_ERR;
}

/* --- sending ------------------------------------------------------------- */

static void redis_rooms_answered(struct redis_node *node, redisReply *reply, void *privdata);
static void redis_rooms_pump(struct bus_redis *br);

static int redis_rooms_send_publish(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    struct redis_rooms *rr = br->rooms;
    char head[REDIS_ENVELOPE_HEAD + 1], oseq[24], flags[2], maxlen[24], keep[24], hint[24];
    redis_envelope_head(head, rr->origin, cmd->oseq);
    head[REDIS_ENVELOPE_HEAD] = '\0';
    snprintf(oseq, sizeof(oseq), "%" PRIu64, cmd->oseq);
    snprintf(flags, sizeof(flags), "%x", cmd->flags & 0xfu);
    snprintf(maxlen, sizeof(maxlen), "%" PRIu64, cmd->max_events);
    snprintf(keep, sizeof(keep), "%" PRIu64, cmd->keep_ms);
    snprintf(hint, sizeof(hint), "%" PRIu64, rr->hwm);
    size_t lc, ll;
    char *channel = redis_name(br, REDIS_CHANNEL_SPACE, cmd->topic, &lc);
    char *log = redis_rooms_key(br, cmd->topic, &ll);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_PUBLISH];
    int rc = REDIS_ERR;
    if (channel && log && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "3", rr->counter, log, rr->origin_key, channel, head, oseq, flags,
                              cmd->except, cmd->packet, maxlen, keep, hint};
        size_t lens[] = {7, strlen(sha), 1, rr->counter_len, ll, rr->origin_key_len, lc, REDIS_ENVELOPE_HEAD,
                         strlen(oseq), 1, strlen(cmd->except), cmd->len, strlen(maxlen), strlen(keep), strlen(hint)};
        rc = redis_rooms_route(br, 15, argv, lens, redis_rooms_answered, cmd);
    }
    free(channel);
    free(log);
    return rc;
}

static int redis_rooms_send_floor(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    char keep[24], hint[24];
    snprintf(keep, sizeof(keep), "%" PRIu64, br->rooms->keep_ms ? br->rooms->keep_ms : REDIS_ROOMS_FLOOR_DEFAULT_MS);
    snprintf(hint, sizeof(hint), "%" PRIu64, br->rooms->hwm);
    size_t l2;
    char *floor = redis_rooms_key(br, "floor", &l2);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_FLOOR];
    int rc = REDIS_ERR;
    if (floor && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "2", br->rooms->counter, floor, keep, hint};
        size_t lens[] = {7, strlen(sha), 1, br->rooms->counter_len, l2, strlen(keep), strlen(hint)};
        rc = redis_rooms_route(br, 7, argv, lens, redis_rooms_answered, cmd);
    }
    free(floor);
    return rc;
}

/* The script that publishes a flush's marker was answered.  Done, it is
 * nothing to do here (the marker may even have come back first; the flush
 * is the markers' list's).  Refused, its marker never comes: failing the
 * links answers every flush waiting (redis_rooms_lost) and starts again,
 * rather than leave a connection waiting for its CONNECT answer. */
static void redis_rooms_flush_answered(struct redis_node *node, redisReply *reply, void *privdata)
{
    struct bus_redis *br = privdata;
    (void)node;
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return;
    char reason[300];
    snprintf(reason, sizeof(reason), "the room log's flush was refused: %s", reply->str);
    redis_link_fail(br, reason);
}

/* A flush is a marker published on this worker's own channel after what
 * it published before: when the marker comes back, so have they. */
static int redis_rooms_send_flush(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    size_t la;
    char *anchor = redis_rooms_anchor(br, &la);
    char marker[48];
    int lm = snprintf(marker, sizeof(marker), REDIS_ROOMS_MARKER "%" PRIu64, cmd->token);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_FLUSH];
    int rc = REDIS_ERR;
    if (anchor && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "1", br->rooms->counter, anchor, marker};
        size_t lens[] = {7, strlen(sha), 1, br->rooms->counter_len, la, (size_t)lm};
        rc = redis_rooms_route(br, 6, argv, lens, redis_rooms_flush_answered, br);
    }
    free(anchor);
    if (rc == REDIS_OK) {
        cmd->next = br->rooms->markers;
        br->rooms->markers = cmd;
    }
    return rc;
}

static int redis_rooms_send(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    switch (cmd->kind) {
    case REDIS_ROOMS_PUBLISH:
        return redis_rooms_send_publish(br, cmd);
    case REDIS_ROOMS_REPLAY:
        return redis_rooms_replay_send(br, cmd, redis_rooms_answered) == 0 ? REDIS_OK : REDIS_ERR;
    case REDIS_ROOMS_FLUSH:
        return redis_rooms_send_flush(br, cmd);
    case REDIS_ROOMS_FLOOR:
        return redis_rooms_send_floor(br, cmd);
    }
    return REDIS_ERR;
}

/* Send what waits, in order, as far as the subscriptions allow. */
static void redis_rooms_pump(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    while (br->usable && rr->head && br->sub_acked >= rr->head->need) {
        struct redis_rooms_cmd *cmd = rr->head;
        rr->head = cmd->next;
        if (!rr->head)
            rr->tail = &rr->head;
        cmd->next = NULL;
        if (cmd->kind == REDIS_ROOMS_FLUSH)
            cmd->token = ++rr->next_token;
        if (redis_rooms_send(br, cmd) != REDIS_OK) {
            /* Back at the head, for the next link. */
            cmd->next = rr->head;
            rr->head = cmd;
            if (!cmd->next)
                rr->tail = &cmd->next;
            redis_link_fail(br, "cannot queue a room log command");
            return;
        }
    }
}

static void redis_rooms_wait_check(void *userdata);

/* A replay or flush waits at most connect_timeout_ms for subscriptions. */
static void redis_rooms_arm_wait(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr->wait_timer && rr->head)
        rr->wait_timer = br->api->timer_start(br->self, br->connect_timeout_ms, 0, redis_rooms_wait_check, br);
}

static void redis_rooms_wait_check(void *userdata)
{
    struct bus_redis *br = userdata;
    struct redis_rooms *rr = br->rooms;
    rr->wait_timer = 0;
    uint64_t now = redis_link_monotonic_ms();
    for (struct redis_rooms_cmd **p = &rr->head; *p;) {
        struct redis_rooms_cmd *cmd = *p;
        int stale = cmd->kind != REDIS_ROOMS_PUBLISH && cmd->kind != REDIS_ROOMS_FLOOR &&
                    now - cmd->queued_ms >= br->connect_timeout_ms;
        if (!stale) {
            p = &cmd->next;
            continue;
        }
        *p = cmd->next;
        if (!*p)
            rr->tail = p;
        redis_rooms_cmd_fail(cmd);
        redis_rooms_cmd_free(cmd);
    }
    redis_rooms_arm_wait(br);
}

void redis_rooms_queue(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    struct redis_rooms *rr = br->rooms;
    cmd->br = br;
    cmd->need = br->sub_sent;
    cmd->queued_ms = redis_link_monotonic_ms();
    *rr->tail = cmd;
    rr->tail = &cmd->next;
    redis_rooms_pump(br);
    redis_rooms_arm_wait(br);
}

void redis_rooms_subscribed(struct bus_redis *br)
{
    if (br->rooms)
        redis_rooms_pump(br);
}

/* --- answers ------------------------------------------------------------- */

/* An error that says the server cannot run our scripts now, or NULL. */
static const char *redis_rooms_fatal(const char *error)
{
    static const char *const fatal[] = {"NOSCRIPT", "READONLY", "LOADING", "MASTERDOWN", "NOAUTH", "NOPERM",
                                        "CLUSTERDOWN"};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        if (strncmp(error, fatal[i], strlen(fatal[i])) == 0)
            return fatal[i];
    return NULL;
}

static void redis_rooms_answered(struct redis_node *node, redisReply *reply, void *privdata)
{
    struct redis_rooms_cmd *cmd = privdata;
    struct bus_redis *br = cmd->br;
    struct redis_rooms *rr = br->rooms;
    if (!rr || br->unloading) {
        redis_rooms_cmd_free(cmd);
        return;
    }
    const char *fatal = reply && reply->type == REDIS_REPLY_ERROR ? redis_rooms_fatal(reply->str) : NULL;
    if (!reply || fatal) {
        /* The link died, or the server cannot serve us any more (a replica
         * after a failover, its scripts forgotten): a publish goes again on
         * the next links, first; the others fail. */
        cmd->next = NULL;
        redis_rooms_drain(cmd, rr);
        if (fatal) {
            char reason[300];
            snprintf(reason, sizeof(reason), "the room log's script was refused: %s", reply->str);
            redis_link_fail(br, reason);
        }
        return;
    }
    snprintf(rr->master, sizeof(rr->master), "%s", node->name);
    if (reply->type == REDIS_REPLY_ERROR)
        br->api->log(br->self, SBR_LOG_WARN, "the room log refused a command: %s", reply->str);
    if (cmd->kind == REDIS_ROOMS_REPLAY)
        redis_rooms_replay_answer(cmd, reply);
    int floor_refused = cmd->kind == REDIS_ROOMS_FLOOR && reply->type == REDIS_REPLY_ERROR;
    if (cmd->kind == REDIS_ROOMS_FLOOR) {
        rr->floor_pending = 0;
        rr->gap = floor_refused;
    }
    redis_rooms_cmd_free(cmd);
    /* Without its floor, a recovery could reach across the gap: the next
     * links raise it before anything else. */
    if (floor_refused)
        redis_link_fail(br, "the room log's floor was refused");
}

/* "flush:<token>:<counter>" */
void redis_rooms_marker(struct bus_redis *br, const char *data, size_t len)
{
    struct redis_rooms *rr = br->rooms;
    size_t lm = strlen(REDIS_ROOMS_MARKER);
    if (!rr || len <= lm || len > lm + 41 || memcmp(data, REDIS_ROOMS_MARKER, lm) != 0)
        return;
    char digits[48];
    memcpy(digits, data + lm, len - lm);
    digits[len - lm] = '\0';
    char *end;
    uint64_t token = strtoull(digits, &end, 10);
    uint64_t seq = *end == ':' ? strtoull(end + 1, NULL, 10) : 0;
    /* A marker comes after every message before it, held ones included
     * (redis_receive.c); but past the hold's bound, catching up still goes
     * on: the counter says nothing then. */
    if (br->holds || br->held_head)
        seq = 0;
    /* Everything up to seq of the subscribed topics has come in order. */
    if (seq > rr->hwm)
        rr->hwm = seq;
    for (struct redis_rooms_cmd **p = &rr->markers; *p;) {
        struct redis_rooms_cmd *cmd = *p;
        if (cmd->token > token) {
            p = &cmd->next;
            continue;
        }
        *p = cmd->next;
        sbr_state_reply reply = {.struct_size = sizeof(reply), .status = SBR_OK, .count = (int64_t)seq};
        cmd->flush_done(&reply, cmd->userdata);
        redis_rooms_cmd_free(cmd);
    }
}

/* --- the links ----------------------------------------------------------- */

static int redis_rooms_queue_floor(struct bus_redis *br, int first);

/* Connected to another master than the one that last answered (a failover:
 * one server, the sentinels' master, or the cluster's master of the room
 * log's slot): it may lack the last offsets handed out, as replication is
 * asynchronous.  The floor goes first, jumping the counter to the clock. */
static void redis_rooms_check_master(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    struct redis_node *node = redis_route_node(br, rr->slot);
    if (!node || strcmp(rr->master, node->name) == 0)
        return;
    if (!rr->master[0]) { /* the first connection */
        snprintf(rr->master, sizeof(rr->master), "%s", node->name);
        return;
    }
    br->api->log(br->self, SBR_LOG_INFO,
                 "the room log's master changed from %s to %s: sessions from before are not recovered", rr->master,
                 node->name);
    snprintf(rr->master, sizeof(rr->master), "%s", node->name);
    rr->gap = 1;
    redis_rooms_queue_floor(br, 1);
}

void redis_rooms_resend(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr)
        return;
    redis_rooms_check_master(br);
    if (!rr->resend)
        return;
    /* They were published before anything waiting now. */
    for (struct redis_rooms_cmd *c = rr->resend; c; c = c->next)
        c->need = 0;
    *rr->resend_tail = rr->head;
    if (!rr->head)
        rr->tail = rr->resend_tail;
    rr->head = rr->resend;
    rr->resend = NULL;
    rr->resend_tail = &rr->resend;
    redis_rooms_pump(br);
}

void redis_rooms_connected(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr)
        return;
    for (struct redis_rooms_cmd *c = rr->head; c; c = c->next)
        c->need = 0; /* the new link subscribed to everything before it was usable */
    if (rr->gap && !rr->floor_pending && redis_rooms_queue_floor(br, 0) == 0)
        return;
    redis_rooms_pump(br);
}

/* Queue the floor's script: at the head (first) or the tail; -1 when out of memory. */
static int redis_rooms_queue_floor(struct bus_redis *br, int first)
{
    struct redis_rooms *rr = br->rooms;
    struct redis_rooms_cmd *cmd = calloc(1, sizeof(*cmd));
    if (!cmd)
        return -1;
    cmd->kind = REDIS_ROOMS_FLOOR;
    rr->floor_pending = 1;
    if (!first) {
        redis_rooms_queue(br, cmd);
        return 0;
    }
    cmd->br = br;
    cmd->queued_ms = redis_link_monotonic_ms();
    cmd->next = rr->head;
    if (!rr->head)
        rr->tail = &cmd->next;
    rr->head = cmd;
    redis_rooms_pump(br);
    return 0;
}

void redis_rooms_lost(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr)
        return;
    rr->floor_pending = 0;
    /* The markers will not come on this link: the flushes answer now. */
    struct redis_rooms_cmd *markers = rr->markers;
    rr->markers = NULL;
    redis_rooms_drain(markers, NULL);
}

/* --- the provider ---------------------------------------------------------- */

int redis_rooms_publish(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                        unsigned flags, uint64_t max_events, uint64_t keep_ms)
{
    struct bus_redis *br = ctx;
    if (!br || !topic || !data || strncmp(topic, "room:", 5) != 0 || (except && strchr(except, '\n')))
        return SBR_ERR_INVALID;
    if (!br->url_text[0])
        return local_bus_room_publish(br->local, topic, data, len, except, flags, max_events, keep_ms);
    struct redis_rooms *rr = br->rooms;
    struct redis_rooms_cmd *cmd = br->usable ? calloc(1, sizeof(*cmd)) : NULL;
    if (cmd && (cmd->topic = strdup(topic)) && (cmd->except = strdup(except ? except : "")) &&
        (cmd->packet = malloc(len + 1))) {
        memcpy(cmd->packet, data, len);
        cmd->packet[len] = '\0';
        cmd->len = len;
        cmd->flags = flags;
        cmd->oseq = ++rr->next_oseq;
        cmd->max_events = max_events;
        cmd->keep_ms = keep_ms;
        if (keep_ms > rr->keep_ms)
            rr->keep_ms = keep_ms;
        redis_rooms_queue(br, cmd);
        return SBR_OK;
    }
    redis_rooms_cmd_free(cmd);
    /* Delivered without an offset: recoveries reaching back before the
     * floor raised once Redis is back are refused. */
    rr->gap = 1;
    return br->usable ? SBR_ERR_NOMEM : SBR_ERR_UNAVAILABLE;
}

int redis_rooms_flush(void *ctx, sbr_state_done_fn done, void *userdata)
{
    struct bus_redis *br = ctx;
    if (!br || !done)
        return SBR_ERR_INVALID;
    if (!br->url_text[0] || !br->usable)
        return local_bus_room_flush(br->local, done, userdata); /* delivered at once, or not at all */
    struct redis_rooms_cmd *cmd = calloc(1, sizeof(*cmd));
    if (!cmd)
        return SBR_ERR_NOMEM;
    cmd->kind = REDIS_ROOMS_FLUSH;
    cmd->flush_done = done;
    cmd->userdata = userdata;
    redis_rooms_queue(br, cmd);
    return SBR_OK;
}

/* '#', 16 digits, a hex flags digit, except, '\n', the packet. */
int redis_rooms_receive(struct bus_redis *br, const char *topic, uint32_t lane, const char *envelope, uint64_t seq,
                        const char *payload, size_t len)
{
    if (!len || payload[0] != '#' || strncmp(topic, "room:", 5) != 0)
        return 0;
    const char *nl = memchr(payload, '\n', len);
    if (!nl || nl < payload + 18 || (size_t)(nl - payload - 18) >= 64)
        return 1; /* not one of ours: dropped */
    uint64_t offset = 0;
    for (size_t i = 1; i <= 16; i++) {
        if (payload[i] < '0' || payload[i] > '9')
            return 1;
        offset = offset * 10 + (uint64_t)(payload[i] - '0');
    }
    char f = payload[17];
    unsigned flags = f >= '0' && f <= '9' ? (unsigned)(f - '0') : f >= 'a' && f <= 'f' ? (unsigned)(f - 'a' + 10) : 16;
    if (!offset || flags > 15)
        return 1;
    if (!redis_dedup_accept(br->dedup, envelope, lane, seq, br->api->now_ms()))
        return 1;
    char except[64];
    memcpy(except, payload + 18, (size_t)(nl - payload - 18));
    except[nl - payload - 18] = '\0';
    if (offset > br->rooms->hwm)
        br->rooms->hwm = offset;
    if (SBR_API_HAS(br->api, bus_deliver_room))
        br->api->bus_deliver_room(topic, offset, except, flags, nl + 1, len - (size_t)(nl + 1 - payload));
    return 1;
}
