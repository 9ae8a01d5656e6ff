/* Replays of the room log over Redis: one script reads the counter, the
 * floor and every log asked for, atomically; its answer is sorted by
 * offset here.  Queued like every room log command (redis_rooms.h), so it
 * runs once this worker's subscriptions asked before it are in force. */
#include "local_rooms.h"
#include "redis_rooms.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int redis_rooms_replay(void *ctx, const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata)
{
    struct bus_redis *br = ctx;
    if (!br || !request || !done || (request->n_topics && !request->topics))
        return SBR_ERR_INVALID;
    if (!br->url_text[0])
        return local_bus_room_replay(br->local, request, done, userdata);
    if (!br->usable)
        return SBR_ERR_UNAVAILABLE;
    struct redis_rooms_cmd *cmd = calloc(1, sizeof(*cmd));
    char **topics = request->n_topics ? calloc(request->n_topics, sizeof(*topics)) : NULL;
    if (!cmd || (request->n_topics && !topics)) {
        free(cmd);
        free(topics);
        return SBR_ERR_NOMEM;
    }
    cmd->kind = REDIS_ROOMS_REPLAY;
    cmd->request = *request;
    cmd->request.topics = (const char *const *)topics;
    cmd->topics = topics;
    cmd->replay_done = done;
    cmd->userdata = userdata;
    for (size_t i = 0; i < request->n_topics; i++) {
        if (!request->topics[i] || !(topics[i] = strdup(request->topics[i]))) {
            cmd->request.n_topics = i;
            redis_rooms_cmd_free(cmd);
            return SBR_ERR_NOMEM;
        }
    }
    redis_rooms_queue(br, cmd);
    return SBR_OK;
}

int redis_rooms_replay_send(struct bus_redis *br, struct redis_rooms_cmd *cmd, redis_route_fn fn)
{
    size_t n = cmd->request.n_topics, argc = 3 + 2 + n + 3;
    const char **argv = calloc(argc, sizeof(*argv));
    size_t *lens = calloc(argc, sizeof(*lens));
    char **keys = calloc(n + 2, sizeof(*keys));
    char nkeys[24], after[24], maxlen[24], cap[24];
    const char *sha = br->script_sha[REDIS_SCRIPT_ROOM_REPLAY];
    int rc = -1, ok = argv && lens && keys && sha[0];
    snprintf(nkeys, sizeof(nkeys), "%zu", n + 2);
    snprintf(after, sizeof(after), "%" PRIu64, cmd->request.after);
    snprintf(maxlen, sizeof(maxlen), "%" PRIu64, cmd->request.max_events);
    snprintf(cap, sizeof(cap), "%" PRIu64, cmd->request.max_total);
    const char *fixed[] = {"EVALSHA", sha, nkeys};
    for (size_t i = 0; ok && i < 3; i++) {
        argv[i] = fixed[i];
        lens[i] = strlen(fixed[i]);
    }
    for (size_t i = 0; ok && i < n + 2; i++) {
        const char *name = i == 0 ? "seq" : i == 1 ? "floor" : cmd->request.topics[i - 2];
        ok = (keys[i] = redis_rooms_key(br, name, &lens[3 + i])) != NULL;
        argv[3 + i] = keys[i];
    }
    const char *tail[] = {after, maxlen, cap};
    for (size_t i = 0; ok && i < 3; i++) {
        argv[5 + n + i] = tail[i];
        lens[5 + n + i] = strlen(tail[i]);
    }
    if (ok)
        rc = redis_route_command(br, br->rooms->slot, (int)argc, argv, lens, fn, cmd);
    for (size_t i = 0; keys && i < n + 2; i++)
        free(keys[i]);
    free(keys);
    free(argv);
    free(lens);
    return rc;
}

struct replay_entry {
    uint64_t offset;
    size_t topic;
    const redisReply *except, *packet;
};

static int replay_by_offset(const void *a, const void *b)
{
    uint64_t x = ((const struct replay_entry *)a)->offset, y = ((const struct replay_entry *)b)->offset;
    return x < y ? -1 : x > y;
}

/* The script's flat list {index, offset, except, packet, ...}: -1 when it
 * is not one. */
static int replay_entries(const redisReply *list, size_t n_topics, struct replay_entry *out)
{
    for (size_t i = 0; i < list->elements / 4; i++) {
        redisReply *const *e = list->element + 4 * i;
        for (int k = 0; k < 4; k++)
            if (e[k]->type != REDIS_REPLY_STRING)
                return -1;
        char *end;
        out[i].topic = (size_t)strtoull(e[0]->str, &end, 10);
        out[i].offset = strtoull(e[1]->str, NULL, 10);
        if (*end || out[i].topic >= n_topics || !out[i].offset)
            return -1;
        out[i].except = e[2];
        out[i].packet = e[3];
    }
    if (list->elements / 4 > 1)
        qsort(out, list->elements / 4, sizeof(*out), replay_by_offset);
    return 0;
}

/* {complete, last, {...}} into reply (arrays and entries its pointers use). */
static int replay_decode(const struct redis_rooms_cmd *cmd, const redisReply *r, sbr_room_replay_reply *reply,
                         struct local_rooms_answer *a)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_INTEGER ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_ARRAY ||
        r->element[2]->elements % 4)
        return -1;
    size_t n = r->element[2]->elements / 4;
    struct replay_entry *entries = n ? malloc(n * sizeof(*entries)) : NULL;
    if ((n && !entries) || local_rooms_answer_alloc(a, n) != 0 ||
        replay_entries(r->element[2], cmd->request.n_topics, entries) != 0) {
        free(entries);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        a->offsets[i] = entries[i].offset;
        a->topics[i] = entries[i].topic;
        a->excepts[i] = entries[i].except->str;
        a->packets[i] = entries[i].packet->str;
        a->lens[i] = entries[i].packet->len;
    }
    free(entries);
    *reply = (sbr_room_replay_reply){
        .struct_size = sizeof(*reply),
        .status = SBR_OK,
        .complete = r->element[0]->integer == 1,
        .last = strtoull(r->element[1]->str, NULL, 10),
        .n = n,
        .offsets = a->offsets,
        .topics = a->topics,
        .excepts = (const char *const *)a->excepts,
        .packets = (const char *const *)a->packets,
        .lens = a->lens,
    };
    return 0;
}

void redis_rooms_replay_answer(struct redis_rooms_cmd *cmd, const redisReply *r)
{
    sbr_room_replay_reply reply = {.struct_size = sizeof(reply), .status = SBR_ERR_UNAVAILABLE};
    struct local_rooms_answer a;
    memset(&a, 0, sizeof(a));
    if (r->type == REDIS_REPLY_ERROR || replay_decode(cmd, r, &reply, &a) != 0)
        reply = (sbr_room_replay_reply){.struct_size = sizeof(reply), .status = SBR_ERR_UNAVAILABLE};
    cmd->replay_done(&reply, cmd->userdata);
    local_rooms_answer_clear(&a);
}
