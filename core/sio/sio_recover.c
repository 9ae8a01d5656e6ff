/* Recovering a lost connection at its CONNECT (see sio_recover.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "bus_rooms.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "sio/sio_emit.h"
#include "sio/sio_recover.h"
#include "sio/sio_recover_record.h"
#include "sio/sio_room.h"
#include "sio/sio_stream.h"

/* A replay reaching further than this many times recovery_max_events is
 * not worth it: the client gets a fresh connection and the app's history. */
#define SIO_RECOVER_MAX_TOTAL_FACTOR 10

struct sio_recover {
    char pid[SIO_ID_LEN + 1];
    uint64_t offset;       /* the client's; 0 when it sent none */
    int found;             /* the session was read and is offered to the chain */
    struct sio_record rec;
    sbr_recovery offer;
    unsigned char *keep;
    char **added;          /* rooms the restore joined (left again if it fails) */
    size_t n_added;
    sio_recover_chain_fn chain;
    sio_recover_answer_fn answer;
};

static void recover_strings_free(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void sio_recover_free(struct sio_recover *r)
{
    if (!r)
        return;
    sio_record_clear(&r->rec);
    free(r->keep);
    recover_strings_free(r->added, r->n_added);
    free(r);
}

/* Async answers find their connection by id: it may be gone by then. */
static sbr_conn_id *recover_ticket(const struct sio_conn *c)
{
    sbr_conn_id *t = malloc(sizeof(*t));
    if (t)
        *t = c->id;
    return t;
}

/* The connection of a ticket if it still waits for its CONNECT answer. */
static struct sio_conn *recover_redeem(sbr_conn_id *ticket)
{
    struct sio_conn *c = sio_conn_live(*ticket);
    free(ticket);
    return c && c->state == SIO_CONN_CONNECTING && c->connect ? c : NULL;
}

/* {pid, offset} in the CONNECT payload: 1 when a recovery is asked (an
 * offset that is not ours asks for none: its events cannot be placed). */
static int recover_asked(const json_t *auth, char *pid, uint64_t *offset)
{
    const char *p = json_string_value(json_object_get(auth, "pid"));
    const json_t *o = json_object_get(auth, "offset");
    if (!p || !sio_id_valid(p))
        return 0;
    *offset = 0;
    if (o && !json_is_null(o) && (!json_is_string(o) || sio_offset_parse(json_string_value(o), offset) != 0))
        return 0;
    memcpy(pid, p, SIO_ID_LEN + 1);
    return 1;
}

/* The session read: offer it to the chain, keeping room events from now. */
static int recover_offer(struct sio_conn *c, struct sio_recover *r)
{
    r->keep = r->rec.n_rooms ? malloc(r->rec.n_rooms) : NULL;
    if (r->rec.n_rooms && !r->keep)
        return -1;
    if (r->keep)
        memset(r->keep, 1, r->rec.n_rooms);
    r->offer = (sbr_recovery){
        .struct_size = sizeof(r->offer),
        .sid = r->rec.sid,
        .user_id = r->rec.user_id,
        .session_id = r->rec.session_id,
        .rooms = (const char *const *)r->rec.rooms,
        .n_rooms = r->rec.n_rooms,
        .keep = r->keep,
    };
    r->found = 1;
    c->connect->event.recovery = &r->offer;
    c->stream->keeping = 1;
    return 0;
}

static void recover_looked_up(const sbr_state_reply *reply, void *userdata)
{
    struct sio_conn *c = recover_redeem(userdata);
    if (!c)
        return;
    struct sio_recover *r = c->connect->recover;
    int usable = reply->status == SBR_OK && reply->found &&
                 sio_record_decode(reply->value, reply->value_len, &r->rec) == 0 &&
                 strcmp(r->rec.nsp, c->nsp) == 0 && recover_offer(c, r) == 0;
    if (!usable) {
        log_debug("sio", "connection %llu: no session to recover for its pid", (unsigned long long)c->id);
        core_metrics.recovery_misses++;
    }
    r->chain(c);
}

int sio_recover_begin(struct sio_conn *c, const json_t *auth, sio_recover_chain_fn chain)
{
    char pid[SIO_ID_LEN + 1];
    uint64_t offset;
    if (!c->stream || !auth || !recover_asked(auth, pid, &offset))
        return 0;
    c->connect->recovery_asked = 1;
    if (!bus_rooms_available())
        return 0;
    struct sio_recover *r = calloc(1, sizeof(*r));
    sbr_conn_id *ticket = r ? recover_ticket(c) : NULL;
    char key[SIO_RECORD_KEY_MAX];
    sio_record_key(pid, key);
    if (!ticket || bus_api_kv_get(key, recover_looked_up, ticket) != SBR_OK) {
        free(ticket);
        free(r);
        return 0;
    }
    memcpy(r->pid, pid, sizeof(pid));
    r->offset = offset;
    r->chain = chain;
    c->connect->recover = r;
    return 1;
}

/* --- going on fresh -------------------------------------------------- */

static int recover_added(const struct sio_recover *r, const char *room)
{
    for (size_t i = 0; r && i < r->n_added; i++)
        if (strcmp(r->added[i], room) == 0)
            return 1;
    return 0;
}

/* What was kept goes to the connection as any event would have (held
 * until its answer), minus the rooms a failed restore joined, left now. */
static void recover_unkeep(struct sio_conn *c, struct sio_recover *r)
{
    size_t n;
    struct sio_kept *kept = sio_stream_take_kept(c, &n);
    for (size_t i = 0; i < n; i++) {
        if (!recover_added(r, sio_room_name(kept[i].room)))
            sio_conn_send(c, kept[i].buf, 0);
        eio_buf_unref(kept[i].buf);
    }
    free(kept);
    for (size_t i = 0; r && i < r->n_added; i++)
        sio_api_room_leave(c->id, r->added[i]);
}

static void recover_flushed(const sbr_state_reply *reply, void *userdata)
{
    struct sio_conn *c = recover_redeem(userdata);
    if (reply->status == SBR_OK && reply->count > 0)
        sio_stream_seen((uint64_t)reply->count);
    if (!c)
        return;
    sio_stream_started(c);
    c->connect->recover->answer(c, 0);
}

/* A fresh connection: once the room log handed back what this worker
 * published (its own presence, say), the answer. */
static void recover_fresh(struct sio_conn *c, struct sio_recover *r)
{
    recover_unkeep(c, r);
    if (r->found) {
        core_metrics.recovery_misses++;
        if (sio_stream_renew(c) != 0) {
            sio_client_drop(c->client, "out of memory");
            return;
        }
    }
    sbr_conn_id *ticket = recover_ticket(c);
    if (ticket && bus_room_flush(recover_flushed, ticket) == SBR_OK)
        return;
    free(ticket);
    sio_stream_started(c);
    r->answer(c, 0);
}

/* --- recovering -------------------------------------------------------- */

static int recover_same(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The identity the chain set is the session's: same user, and the same
 * session when it had one. */
static int recover_owner(const struct sio_conn *c, const struct sio_recover *r)
{
    const sbr_identity *who = c->identity;
    if (!recover_same(r->rec.user_id, who ? who->user_id : NULL))
        return 0;
    return !r->rec.session_id || recover_same(r->rec.session_id, who ? who->session_id : NULL);
}

/* The old ids, and the kept rooms (joining those the chain did not). */
static int recover_restore(struct sio_conn *c, struct sio_recover *r)
{
    memcpy(c->stream->sid, r->rec.sid, sizeof(c->stream->sid));
    memcpy(c->stream->pid, r->pid, sizeof(c->stream->pid));
    c->stream->start = r->rec.start;
    size_t n = r->rec.n_rooms;
    r->added = n ? calloc(n, sizeof(*r->added)) : NULL;
    if (n && !r->added)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *room = r->rec.rooms[i];
        if (!r->keep[i])
            continue;
        if (sio_api_room_contains(c->id, room))
            continue;
        if (!(r->added[r->n_added] = strdup(room)))
            return -1;
        r->n_added++;
        if (sio_api_room_join(c->id, room) != SBR_OK)
            return -1;
    }
    return 0;
}

/* What the client has: everything up to its offset; without one (it got
 * no room event), everything up to the start of its stream. */
static uint64_t recover_after(const struct sio_recover *r)
{
    return r->offset ? r->offset : r->rec.start;
}

/* Send one replayed event (the packet is the room's, without offset). */
static int recover_send_logged(struct sio_conn *c, const char *packet, size_t len, uint64_t offset)
{
    struct eio_buf *b = sio_stream_packet(packet, len, offset);
    struct eio_buf *use = b && strcmp(c->nsp, "/") != 0 ? sio_room_renamespace(b, c->nsp) : eio_buf_ref(b);
    eio_buf_unref(b);
    if (!use)
        return SBR_OK; /* not a room packet: nothing a client could use */
    int rc = sio_conn_send(c, use, 0);
    eio_buf_unref(use);
    core_metrics.recovery_replayed++;
    return rc;
}

/* The replayed and the kept events merged by offset, each once, each above
 * `after`; what the replay says skips this socket, skipped.  Returns the
 * highest offset sent (or after). */
static uint64_t recover_send_missed(struct sio_conn *c, const sbr_room_replay_reply *reply, struct sio_kept *kept,
                                    size_t n_kept, uint64_t after)
{
    size_t i = 0, j = 0;
    uint64_t last = after;
    int rc = SBR_OK;
    while (rc == SBR_OK && (i < reply->n || j < n_kept)) {
        int logged = j == n_kept || (i < reply->n && reply->offsets[i] <= kept[j].offset);
        uint64_t offset = logged ? reply->offsets[i] : kept[j].offset;
        if (offset > last && logged && strcmp(reply->excepts[i], c->stream->sid) != 0)
            rc = recover_send_logged(c, reply->packets[i], reply->lens[i], offset);
        else if (offset > last && !logged)
            rc = sio_conn_send(c, kept[j].buf, 0);
        if (offset > last)
            last = offset;
        if (logged)
            i++;
        else
            j++;
    }
    return last;
}

/* What a replay would queue at once must fit well under the outbound cap:
 * past it the connection would be dropped as a slow consumer mid-replay. */
static int recover_fits(const sbr_room_replay_reply *reply)
{
    uint64_t cap = settings_get()->outbound_buffer_max, bytes = 0;
    for (size_t i = 0; i < reply->n; i++)
        bytes += reply->lens[i] + 3 + SIO_OFFSET_DIGITS;
    return !cap || bytes <= cap / 2;
}

static void recover_replayed(const sbr_room_replay_reply *reply, void *userdata)
{
    struct sio_conn *c = recover_redeem(userdata);
    if (!c)
        return;
    struct sio_recover *r = c->connect->recover;
    if (reply->status != SBR_OK || !reply->complete || !recover_fits(reply)) {
        log_debug("sio", "connection %llu: the room log cannot prove it holds every missed event, or they are too "
                  "many to send at once: a fresh connection", (unsigned long long)c->id);
        recover_fresh(c, r);
        return;
    }
    uint64_t after = recover_after(r);
    size_t n_kept;
    struct sio_kept *kept = sio_stream_take_kept(c, &n_kept);
    /* The missed events precede the answer, as the reference server sends
     * them: the connection counts as connected for them. */
    c->state = SIO_CONN_CONNECTED;
    uint64_t last = recover_send_missed(c, reply, kept, n_kept, after);
    for (size_t k = 0; k < n_kept; k++)
        eio_buf_unref(kept[k].buf);
    free(kept);
    c->stream->skip_upto = last > reply->last ? last : reply->last;
    core_metrics.recoveries++;
    log_debug("sio", "connection %llu recovered socket %s", (unsigned long long)c->id, c->stream->sid);
    r->answer(c, 1);
}

/* Ask the room log for what the kept rooms (all joined now) had after
 * the client's offset; the request lives during the call. */
static void recover_replay(struct sio_conn *c, struct sio_recover *r)
{
    size_t n = 0;
    const char **topics = r->rec.n_rooms ? malloc(r->rec.n_rooms * sizeof(*topics)) : NULL;
    for (size_t i = 0; topics && i < r->rec.n_rooms; i++)
        if (r->keep[i] && (topics[n] = sio_room_topic(r->rec.rooms[i])) != NULL)
            n++;
    uint64_t max_events = settings_get()->recovery_max_events;
    sbr_room_replay req = {
        .struct_size = sizeof(req),
        .topics = topics,
        .n_topics = n,
        .after = recover_after(r),
        .max_events = max_events,
        .max_total = max_events * SIO_RECOVER_MAX_TOTAL_FACTOR,
    };
    sbr_conn_id *ticket = recover_ticket(c);
    int rc = (topics || !r->rec.n_rooms) && ticket ? bus_room_replay(&req, recover_replayed, ticket) : SBR_ERR_NOMEM;
    free(topics);
    if (rc == SBR_OK)
        return;
    free(ticket);
    recover_fresh(c, r);
}

static void recover_taken(const sbr_state_reply *reply, void *userdata)
{
    struct sio_conn *c = recover_redeem(userdata);
    if (!c)
        return;
    struct sio_recover *r = c->connect->recover;
    if (reply->status != SBR_OK || !reply->changed) {
        recover_fresh(c, r); /* expired, or another connection took it */
        return;
    }
    if (recover_restore(c, r) != 0) {
        recover_fresh(c, r);
        return;
    }
    recover_replay(c, r);
}

void sio_recover_accept(struct sio_conn *c, sio_recover_answer_fn answer)
{
    struct sio_recover *r = c->connect->recover;
    if (!r && !(r = c->connect->recover = calloc(1, sizeof(*r)))) {
        answer(c, 0);
        return;
    }
    r->answer = answer;
    if (!r->found || !recover_owner(c, r)) {
        recover_fresh(c, r);
        return;
    }
    char key[SIO_RECORD_KEY_MAX];
    sio_record_key(r->pid, key);
    sbr_conn_id *ticket = recover_ticket(c);
    if (ticket && bus_api_kv_del(key, recover_taken, ticket) == SBR_OK)
        return;
    free(ticket);
    recover_fresh(c, r);
}
