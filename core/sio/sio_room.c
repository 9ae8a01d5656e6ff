/* Rooms: members indexed both ways for O(1) join and leave, and the
 * encode-once broadcast (one shared buffer for every member).  A room with
 * local members subscribes to its bus topic "room:<name>", where the other
 * workers publish the packets of their emits to it. */
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "bus_rooms.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "sio/sio_emit.h"
#include "sio/sio_log.h"
#include "sio/sio_room.h"
#include "sio/sio_stream.h"

#define ROOM_NAME_MAX 255

static struct hashtab rooms;

static int room_name_valid(const char *room)
{
    return room && room[0] && strlen(room) <= ROOM_NAME_MAX;
}

static struct sio_room *room_find(const char *name)
{
    struct hashtab_node *n = hashtab_find(&rooms, name);
    return n ? HASHTAB_ENTRY(n, struct sio_room, node) : NULL;
}

#define ROOM_PREFIX_LEN (sizeof(BUS_CORE_TOPIC_PREFIX) - 1)

/* "room:<name>" into out[ROOM_TOPIC_MAX]. */
#define ROOM_TOPIC_MAX (ROOM_PREFIX_LEN + ROOM_NAME_MAX + 1)
static void room_topic(char *out, const char *name, size_t len)
{
    memcpy(out, BUS_CORE_TOPIC_PREFIX, ROOM_PREFIX_LEN);
    memcpy(out + ROOM_PREFIX_LEN, name, len + 1);
}

static struct sio_room *room_create(const char *name)
{
    size_t len = strlen(name);
    struct sio_room *r = calloc(1, sizeof(*r) + ROOM_PREFIX_LEN + len + 1);
    if (!r)
        return NULL;
    room_topic(r->topic, name, len);
    r->node.key = sio_room_name(r);
    if (hashtab_insert(&rooms, &r->node) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void room_free(struct sio_room *r)
{
    free(r->members);
    free(r);
}

static void room_destroy(struct sio_room *r)
{
    hashtab_remove(&rooms, &r->node);
    room_free(r);
}

static struct sio_conn *member_conn(sbr_conn_id id)
{
    struct sio_conn *c = sio_conn_find(id);
    return c && c->state != SIO_CONN_CLOSED ? c : NULL;
}

static void room_on_bus(const char *topic, const char *packet, size_t len, void *userdata);

int sio_api_room_join(sbr_conn_id conn, const char *room)
{
    if (!room_name_valid(room))
        return SBR_ERR_INVALID;
    struct sio_conn *c = member_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    for (size_t i = 0; i < c->n_rooms; i++)
        if (strcmp(sio_room_name(c->rooms[i].room), room) == 0)
            return SBR_OK;
    struct sio_room *r = room_find(room);
    int created = 0;
    if (!r) {
        r = room_create(room);
        if (!r)
            return SBR_ERR_NOMEM;
        created = 1;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        struct sio_member *m = realloc(r->members, cap * sizeof(*m));
        if (!m)
            goto nomem;
        r->members = m;
        r->cap = cap;
    }
    if (c->n_rooms == c->cap_rooms) {
        size_t cap = c->cap_rooms ? c->cap_rooms * 2 : 2;
        struct sio_conn_room *cr = realloc(c->rooms, cap * sizeof(*cr));
        if (!cr)
            goto nomem;
        c->rooms = cr;
        c->cap_rooms = cap;
    }
    r->members[r->n].conn = c;
    r->members[r->n].slot = c->n_rooms;
    c->rooms[c->n_rooms].room = r;
    c->rooms[c->n_rooms].index = r->n;
    r->n++;
    c->n_rooms++;
    if (r->n == 1 && bus_subscribe(NULL, r->topic, room_on_bus, NULL) != SBR_OK)
        log_warn("sio", "room '%s' will not hear from other workers", sio_room_name(r));
    sio_log_room(c, room, 1);
    return SBR_OK;
nomem:
    if (created)
        room_destroy(r);
    return SBR_ERR_NOMEM;
}

/* Remove the conn's slot `slot` (swap with the last on both sides). */
static void leave_slot(struct sio_conn *c, size_t slot)
{
    struct sio_room *r = c->rooms[slot].room;
    size_t idx = c->rooms[slot].index;
    r->n--;
    if (idx != r->n) {
        r->members[idx] = r->members[r->n];
        struct sio_member *m = &r->members[idx];
        m->conn->rooms[m->slot].index = idx;
    }
    c->n_rooms--;
    if (slot != c->n_rooms) {
        c->rooms[slot] = c->rooms[c->n_rooms];
        struct sio_conn_room *cr = &c->rooms[slot];
        cr->room->members[cr->index].slot = slot;
    }
    if (r->n == 0) {
        bus_unsubscribe(NULL, r->topic, room_on_bus, NULL);
        room_destroy(r);
    }
}

int sio_api_room_leave(sbr_conn_id conn, const char *room)
{
    if (!room_name_valid(room))
        return SBR_ERR_INVALID;
    struct sio_conn *c = member_conn(conn);
    if (!c)
        return SBR_ERR_GONE;
    for (size_t i = 0; i < c->n_rooms; i++) {
        if (strcmp(sio_room_name(c->rooms[i].room), room) == 0) {
            leave_slot(c, i);
            sio_log_room(c, room, 0);
            break;
        }
    }
    return SBR_OK;
}

void sio_rooms_leave_all(struct sio_conn *c)
{
    while (c->n_rooms)
        leave_slot(c, c->n_rooms - 1);
    free(c->rooms);
    c->rooms = NULL;
    c->cap_rooms = 0;
}

int sio_api_room_contains(sbr_conn_id conn, const char *room)
{
    struct sio_conn *c = member_conn(conn);
    if (!c || !room)
        return 0;
    for (size_t i = 0; i < c->n_rooms; i++)
        if (strcmp(sio_room_name(c->rooms[i].room), room) == 0)
            return 1;
    return 0;
}

size_t sio_api_room_foreach(const char *room, void (*fn)(sbr_conn_id, void *), void *userdata)
{
    struct sio_room *r = room ? room_find(room) : NULL;
    if (!r || !fn)
        return 0;
    size_t n = r->n;
    for (size_t i = 0; i < n && i < r->n; i++)
        fn(r->members[i].conn->id, userdata);
    return n;
}

const char *sio_room_topic(const char *name)
{
    struct sio_room *r = name ? room_find(name) : NULL;
    return r ? r->topic : NULL;
}

struct eio_buf *sio_room_renamespace(const struct eio_buf *b, const char *nsp)
{
    const char *text = eio_buf_data((struct eio_buf *)b);
    size_t nl = strlen(nsp);
    struct eio_buf *out = eio_buf_alloc(b->len + nl + 1, 0);
    if (!out)
        return NULL;
    char *p = eio_buf_data(out);
    memcpy(p, text, 2);
    memcpy(p + 2, nsp, nl);
    p[2 + nl] = ',';
    memcpy(p + 3 + nl, text + 2, b->len - 2);
    return out;
}

#define NSP_VARIANTS 8

/* The packets of one delivery for namespaces other than "/", made once each. */
struct room_variants {
    struct {
        const char *nsp;
        struct eio_buf *buf;
    } v[NSP_VARIANTS];
    size_t n;
};

static struct eio_buf *room_variant(struct room_variants *vs, struct eio_buf *b, const char *nsp)
{
    if (nsp[0] == '/' && nsp[1] == '\0') /* the main namespace */
        return b;
    for (size_t k = 0; k < vs->n; k++)
        if (vs->v[k].nsp == nsp)
            return vs->v[k].buf;
    struct eio_buf *use = vs->n < NSP_VARIANTS ? sio_room_renamespace(b, nsp) : NULL;
    if (use) {
        vs->v[vs->n].nsp = nsp;
        vs->v[vs->n].buf = use;
        vs->n++;
    }
    return use;
}

/* Who a delivery skips: a local connection, or a socket id (any worker). */
struct room_except {
    sbr_conn_id conn;
    const char *sid; /* "" for none */
};

static int room_skips(const struct sio_conn *c, const struct room_except *except)
{
    if (c->id == except->conn || c->state == SIO_CONN_CLOSED)
        return 1;
    return except->sid[0] && c->stream && strcmp(c->stream->sid, except->sid) == 0;
}

/* Deliver a "42[...]" packet to the room's local members; offset 0: an
 * event without one (recovery off, or the sequencer away). */
static size_t room_deliver_local(const char *room, struct eio_buf *b, uint64_t offset,
                                 const struct room_except *except, unsigned flags)
{
    struct sio_room *r = room_find(room);
    if (!r)
        return 0;
    struct room_variants vs = {.n = 0};
    size_t sent = 0;
    /* Sending never changes membership here: closes are deferred. */
    for (size_t i = 0; i < r->n; i++) {
        struct sio_conn *c = r->members[i].conn;
        /* A member whose CONNECT is pending gets it too: it is held until
         * the verdict (sio_conn_send), or kept by its recovery. */
        if (room_skips(c, except))
            continue;
        struct eio_buf *use = room_variant(&vs, b, c->nsp);
        if (!use)
            continue;
        int rc = offset ? sio_stream_deliver(c, use, offset, r, flags) : sio_conn_send(c, use, flags);
        if (rc == SBR_OK)
            sent++;
    }
    for (size_t k = 0; k < vs.n; k++)
        eio_buf_unref(vs.v[k].buf);
    return sent;
}

static int room_packet_valid(const char *room, const char *packet, size_t len)
{
    return room_name_valid(room) && packet && len >= 3 && packet[0] == '4' && packet[1] == '2' &&
           packet[len - 1] == ']' && !memchr(packet, '\x1e', len);
}

/* A room packet from another worker: deliver it to the local members. */
static void room_on_bus(const char *topic, const char *packet, size_t len, void *userdata)
{
    (void)userdata;
    const char *room = topic + ROOM_PREFIX_LEN;
    if (!room_packet_valid(room, packet, len))
        return;
    struct eio_buf *b = eio_buf_new(packet, len, 0);
    if (!b)
        return;
    const struct room_except none = {0, ""};
    room_deliver_local(room, b, 0, &none, 0);
    eio_buf_unref(b);
}

/* A room event with its offset, from the room log (any worker's, this
 * one's own included): the packet with the offset is made once. */
static void room_on_sequenced(const char *topic, uint64_t offset, const char *except, unsigned flags,
                              const char *packet, size_t len)
{
    if (strncmp(topic, BUS_CORE_TOPIC_PREFIX, ROOM_PREFIX_LEN) != 0)
        return;
    const char *room = topic + ROOM_PREFIX_LEN;
    if (!room_packet_valid(room, packet, len))
        return;
    sio_stream_seen(offset);
    struct eio_buf *b = sio_stream_packet(packet, len, offset);
    if (!b)
        return;
    const struct room_except skip = {0, except};
    room_deliver_local(room, b, offset, &skip, flags);
    eio_buf_unref(b);
}

void sio_rooms_init(void)
{
    bus_rooms_set_handler(room_on_sequenced);
}

/* The socket id an emit excepts, for the room log ("" for none). */
static const char *room_except_sid(sbr_conn_id except)
{
    struct sio_conn *c = except ? sio_conn_find(except) : NULL;
    return c && c->stream ? c->stream->sid : "";
}

/* With recovery on: to the room log, which hands it back to every worker
 * (this one too) with its offset.  SBR_OK once it is there. */
static int room_emit_sequenced(const char *topic, struct eio_buf *b, sbr_conn_id except, unsigned flags)
{
    if (!sio_recovery_configured() || !bus_rooms_available())
        return SBR_ERR_UNAVAILABLE;
    int rc = bus_room_publish(topic, eio_buf_data(b), b->len, room_except_sid(except), flags,
                              settings_get()->recovery_max_events, sio_recovery_keep_ms());
    if (rc != SBR_OK)
        core_metrics.unsequenced_room_events++;
    return rc;
}

int sio_api_emit_room(const char *room, const char *event, const char *data_json, sbr_conn_id except, unsigned flags)
{
    if (!room_name_valid(room) || !event || (data_json && !sio_json_valid(data_json)))
        return SBR_ERR_INVALID;
    struct eio_buf *b = sio_encode_packet(SIO_EVENT, 0, "/", 0, 0, event, data_json,
                                          data_json ? strlen(data_json) : 0);
    if (!b)
        return SBR_ERR_INVALID;
    core_metrics.broadcasts++;
    char topic[ROOM_TOPIC_MAX];
    room_topic(topic, room, strlen(room));
    if (room_emit_sequenced(topic, b, except, flags) != SBR_OK) {
        const struct room_except skip = {except, ""};
        room_deliver_local(room, b, 0, &skip, flags);
        /* Other workers get the same Engine.IO packet text ("42[...]"). */
        bus_publish_others(topic, eio_buf_data(b), b->len);
    }
    eio_buf_unref(b);
    return SBR_OK;
}

void sio_rooms_free(void)
{
    bus_rooms_set_handler(NULL);
    struct hashtab_node *n, *next;
    for (n = hashtab_next(&rooms, NULL); n; n = next) {
        next = hashtab_next(&rooms, n);
        room_free(HASHTAB_ENTRY(n, struct sio_room, node));
    }
    hashtab_free(&rooms);
}
