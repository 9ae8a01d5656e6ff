/* The room log over Redis (see bus_redis.h and redis_rooms.h). */
#include "redis_rooms.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REDIS_CHANNEL_SPACE "bus:"
#define REDIS_ANCHOR_SPACE "worker:"
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
    br->rooms = rr;
    return 0;
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
    free(rr);
    br->rooms = NULL;
}

char *redis_rooms_key(const struct bus_redis *br, const char *name, size_t *len)
{
    size_t ls = strlen(REDIS_ROOMS_SPACE), ln = strlen(name);
    char *space = malloc(ls + ln + 1);
    if (!space)
        return NULL;
    memcpy(space, REDIS_ROOMS_SPACE, ls);
    memcpy(space + ls, name, ln + 1);
    char *key = redis_name(br, space, "", len);
    free(space);
    return key;
}

char *redis_rooms_anchor(const struct bus_redis *br, size_t *len)
{
    return redis_name(br, REDIS_ANCHOR_SPACE, br->worker_id, len);
}

/* --- sending ------------------------------------------------------------- */

static void redis_rooms_answered(redisAsyncContext *ac, void *r, void *privdata);
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
    size_t lc, lk1, lk2, lk3;
    char *channel = redis_name(br, REDIS_CHANNEL_SPACE, cmd->topic, &lc);
    char *counter = redis_rooms_key(br, "seq", &lk1);
    char *log = redis_rooms_key(br, cmd->topic, &lk2);
    char *origin = redis_rooms_key(br, rr->origin, &lk3);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_PUBLISH];
    int rc = REDIS_ERR;
    if (channel && counter && log && origin && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "3", counter, log, origin, channel, head, oseq, flags, cmd->except,
                              cmd->packet, maxlen, keep, hint};
        size_t lens[] = {7, strlen(sha), 1, lk1, lk2, lk3, lc, REDIS_ENVELOPE_HEAD, strlen(oseq), 1,
                         strlen(cmd->except), cmd->len, strlen(maxlen), strlen(keep), strlen(hint)};
        rc = redisAsyncCommandArgv(br->cmd, redis_rooms_answered, cmd, 15, argv, lens);
    }
    free(channel);
    free(counter);
    free(log);
    free(origin);
    return rc;
}

static int redis_rooms_send_floor(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    char keep[24], hint[24];
    snprintf(keep, sizeof(keep), "%" PRIu64, br->rooms->keep_ms ? br->rooms->keep_ms : REDIS_ROOMS_FLOOR_DEFAULT_MS);
    snprintf(hint, sizeof(hint), "%" PRIu64, br->rooms->hwm);
    size_t l1, l2;
    char *counter = redis_rooms_key(br, "seq", &l1);
    char *floor = redis_rooms_key(br, "floor", &l2);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_FLOOR];
    int rc = REDIS_ERR;
    if (counter && floor && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "2", counter, floor, keep, hint};
        size_t lens[] = {7, strlen(sha), 1, l1, l2, strlen(keep), strlen(hint)};
        rc = redisAsyncCommandArgv(br->cmd, redis_rooms_answered, cmd, 7, argv, lens);
    }
    free(counter);
    free(floor);
    return rc;
}

/* The PUBLISH of a flush's marker was answered: nothing to do (the
 * marker may even have come back first; the flush is the markers' list's,
 * never touched here). */
static void redis_rooms_flush_answered(redisAsyncContext *ac, void *r, void *privdata)
{
    (void)r;
    (void)privdata;
    redis_link_answered(ac->data);
}

/* A flush is a marker published on this worker's own channel after what
 * it published before: when the marker comes back, so have they. */
static int redis_rooms_send_flush(struct bus_redis *br, struct redis_rooms_cmd *cmd)
{
    size_t la, lk;
    char *anchor = redis_rooms_anchor(br, &la);
    char *counter = redis_rooms_key(br, "seq", &lk);
    char marker[48];
    int lm = snprintf(marker, sizeof(marker), REDIS_ROOMS_MARKER "%" PRIu64, cmd->token);
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_FLUSH];
    int rc = REDIS_ERR;
    if (anchor && counter && sha[0]) {
        const char *argv[] = {"EVALSHA", sha, "1", counter, anchor, marker};
        size_t lens[] = {7, strlen(sha), 1, lk, la, (size_t)lm};
        rc = redisAsyncCommandArgv(br->cmd, redis_rooms_flush_answered, NULL, 6, argv, lens);
    }
    free(anchor);
    free(counter);
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
        return redis_rooms_replay_send(br, cmd, redis_rooms_answered);
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
    while (br->usable && br->cmd && rr->head && br->sub_acked >= rr->head->need) {
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
        redis_link_sent(br);
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

static void redis_rooms_answered(redisAsyncContext *ac, void *r, void *privdata)
{
    struct bus_redis *br = ac->data;
    struct redis_rooms_cmd *cmd = privdata;
    redisReply *reply = r;
    redis_link_answered(br);
    struct redis_rooms *rr = br->rooms;
    if (!rr || br->unloading) {
        redis_rooms_cmd_free(cmd);
        return;
    }
    if (!reply || ac != br->cmd || (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0)) {
        /* The link died (or forgot the scripts): a publish goes again on
         * the next one, first; the others fail. */
        cmd->next = NULL;
        redis_rooms_drain(cmd, rr);
        if (reply && ac == br->cmd)
            redis_link_fail(br, "its script cache was flushed");
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR)
        br->api->log(br->self, SBR_LOG_WARN, "the room log refused a command: %s", reply->str);
    if (cmd->kind == REDIS_ROOMS_REPLAY)
        redis_rooms_replay_answer(cmd, reply);
    if (cmd->kind == REDIS_ROOMS_FLOOR && reply->type != REDIS_REPLY_ERROR) {
        rr->floor_pending = 0;
        rr->gap = 0;
    }
    redis_rooms_cmd_free(cmd);
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
    /* Messages held while catching up (redis_receive.c) have not been
     * handed over yet: the counter says nothing then. */
    if (br->catching_up)
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

void redis_rooms_resend(struct bus_redis *br)
{
    struct redis_rooms *rr = br->rooms;
    if (!rr || !rr->resend)
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
    if (rr->gap && !rr->floor_pending) {
        struct redis_rooms_cmd *cmd = calloc(1, sizeof(*cmd));
        if (cmd) {
            cmd->kind = REDIS_ROOMS_FLOOR;
            rr->floor_pending = 1;
            redis_rooms_queue(br, cmd);
            return;
        }
    }
    redis_rooms_pump(br);
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
int redis_rooms_receive(struct bus_redis *br, const char *topic, const char *envelope, uint64_t seq,
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
    if (!redis_dedup_accept(br->dedup, envelope, seq, br->api->now_ms()))
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
