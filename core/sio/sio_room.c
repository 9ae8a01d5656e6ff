/* Rooms: members indexed both ways for O(1) join and leave, and the
 * encode-once broadcast (one shared buffer for every member).  A room with
 * local members subscribes to its bus topic "room:<name>", where the other
 * workers publish the packets of their emits to it. */
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "log.h"
#include "metrics.h"
#include "sio/sio_emit.h"
#include "sio/sio_log.h"
#include "sio/sio_room.h"

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

/* The same event for a namespace other than "/": "42[...]" -> "42/nsp,[...]". */
static struct eio_buf *renamespace(const struct eio_buf *b, const char *nsp)
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

/* Deliver a "42[...]" packet to the room's local members. */
static size_t room_deliver_local(const char *room, struct eio_buf *b, sbr_conn_id except, unsigned flags)
{
    struct sio_room *r = room_find(room);
    if (!r)
        return 0;
    struct {
        const char *nsp;
        struct eio_buf *buf;
    } variants[NSP_VARIANTS];
    size_t n_variants = 0, sent = 0;
    /* Sending never changes membership here: closes are deferred. */
    for (size_t i = 0; i < r->n; i++) {
        struct sio_conn *c = r->members[i].conn;
        /* A member whose CONNECT is pending gets it too: it is held until
         * the verdict (sio_conn_send). */
        if (c->id == except || c->state == SIO_CONN_CLOSED)
            continue;
        struct eio_buf *use = b;
        if (c->nsp[0] != '/' || c->nsp[1] != '\0') { /* not the main namespace */
            use = NULL;
            for (size_t k = 0; k < n_variants; k++)
                if (variants[k].nsp == c->nsp)
                    use = variants[k].buf;
            if (!use && n_variants < NSP_VARIANTS) {
                use = renamespace(b, c->nsp);
                if (use) {
                    variants[n_variants].nsp = c->nsp;
                    variants[n_variants].buf = use;
                    n_variants++;
                }
            }
            if (!use)
                continue;
        }
        if (sio_conn_send(c, use, flags) == SBR_OK)
            sent++;
    }
    for (size_t k = 0; k < n_variants; k++)
        eio_buf_unref(variants[k].buf);
    return sent;
}

/* A room packet from another worker: deliver it to the local members. */
static void room_on_bus(const char *topic, const char *packet, size_t len, void *userdata)
{
    (void)userdata;
    const char *room = topic + ROOM_PREFIX_LEN;
    if (!room_name_valid(room) || !packet || len < 3 || packet[0] != '4' || packet[1] != '2' ||
        memchr(packet, '\x1e', len))
        return;
    struct eio_buf *b = eio_buf_new(packet, len, 0);
    if (!b)
        return;
    room_deliver_local(room, b, 0, 0);
    eio_buf_unref(b);
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
    room_deliver_local(room, b, except, flags);
    /* Other workers get the same Engine.IO packet text ("42[...]"). */
    char topic[ROOM_TOPIC_MAX];
    room_topic(topic, room, strlen(room));
    bus_publish_others(topic, eio_buf_data(b), b->len);
    eio_buf_unref(b);
    return SBR_OK;
}

void sio_rooms_free(void)
{
    struct hashtab_node *n, *next;
    for (n = hashtab_next(&rooms, NULL); n; n = next) {
        next = hashtab_next(&rooms, n);
        room_free(HASHTAB_ENTRY(n, struct sio_room, node));
    }
    hashtab_free(&rooms);
}
