/* The presence plugin: who is online in each server, with status (private).
 *
 * Shared state, every field expiring after the TTL unless refreshed by the
 * worker holding the connection:
 *   "presence:conns:<user>"    field "<worker>:<conn>" = status, one per live connection
 *   "presence:server:<server>" field "<user>" = status, the visible online members
 *   "presence:workers"         field "<worker>" = wall-clock ms of its last heartbeat
 *   "presence:users:<worker>"  field "<user>" = the user's servers (JSON), 3 TTLs
 * A user is online while their conns map has a live field; invisible users
 * are kept out of the server maps, so snapshots read the server map alone,
 * in O(online members).  The topic "presence:status" carries a status change
 * to the user's connections on every worker. */
#ifndef SBR_PRESENCE_H
#define SBR_PRESENCE_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>
#include "chat_event.h"

#define PRESENCE_BUCKETS 4096
/* The refresh goes round the users in this many steps per period, so that
 * a worker's thousands of entries are not all written in one burst. */
#define PRESENCE_REFRESH_SLICES 10
#define PRESENCE_TOPIC "presence:status"
#define PRESENCE_STATUS_MAX 16

/* One local connection of an identified user. */
struct presence_conn {
    struct presence_conn *next; /* hash chain, by connection */
    struct presence_conn *user_next; /* hash chain, by user */
    sbr_conn_id conn;
    char *user_id;
    char **servers;
    size_t n_servers;
    char status[PRESENCE_STATUS_MAX]; /* online, idle, dnd, invisible */
    char field[40];                   /* "<worker>:<conn>", unique across workers */
};

struct presence {
    sbr_plugin *self;
    const sbr_api *api;
    uint64_t ttl_ms;
    uint64_t refresh_ms;
    uint64_t beat_ms;      /* heartbeat period: a sixth of the TTL */
    uint64_t silence_ms;   /* a worker silent this long is dead: half the TTL */
    uint64_t connected_at; /* now_ms when the shared backend was last reached again */
    char worker[CHAT_WORKER_MAX]; /* api->worker_id() (presence_worker_init) */
    struct presence_conn *buckets[PRESENCE_BUCKETS];
    struct presence_conn *users[PRESENCE_BUCKETS]; /* the same, by user: a status change is O(the user's connections) */
    unsigned refresh_slice; /* the next step of the refresh round */
    size_t count; /* connections in the table */
    struct presence_gone *gone; /* closed connections whose removal is in flight */
    struct presence_conn *doubts; /* said offline while the backend was away (presence_outage.c) */
    size_t n_doubts;
    uint64_t grace_ms;     /* a lost connection's field outlives it this long (presence_grace.c) */
    struct presence_grace *graces, **graces_tail; /* oldest first */
    size_t n_graces;
    sbr_timer_id grace_timer;
    struct presence_reaping *reapings; /* dead workers whose users wait out the grace */
};

struct presence_reaping;

struct presence_grace;

struct presence_gone;

/* --- the local connections (presence_table.c) --- */
struct presence_conn *presence_table_find(struct presence *p, sbr_conn_id conn);
/* Record a connection with a copy of its identity, status "online"; NULL on no memory. */
struct presence_conn *presence_table_add(struct presence *p, sbr_conn_id conn, const sbr_identity *who);
/* Replace rec's servers by the valid ones of who; 0, or -1 (rec unchanged) on no memory. */
int presence_conn_set_servers(struct presence_conn *rec, const sbr_identity *who);
/* Unlink a connection (the caller frees it). */
void presence_table_unlink(struct presence *p, struct presence_conn *rec);
void presence_conn_free(struct presence_conn *rec);
void presence_table_foreach(struct presence *p, void (*fn)(struct presence *p, struct presence_conn *rec, void *arg),
                            void *arg);
/* The same over the connections of one user only. */
void presence_table_foreach_user(struct presence *p, const char *user_id,
                                 void (*fn)(struct presence *p, struct presence_conn *rec, void *arg), void *arg);
void presence_table_clear(struct presence *p);
/* Free the closed connections whose removal from the shared state never
 * answered (at unload: the bus drops what is in flight at shutdown). */
void presence_gone_clear(struct presence *p);

/* --- shared state (presence_state.c) --- */
/* 1 if status is one a client may set. */
int presence_status_valid(const char *status);
/* What others see: "offline" for invisible. */
const char *presence_status_shown(const char *status);
/* presence_update {"server_id","user_id","status"} to every server room of rec. */
void presence_announce(struct presence *p, const struct presence_conn *rec, const char *shown);
/* The same to one server's room. */
void presence_announce_one(struct presence *p, const char *server_id, const char *user_id, const char *shown);
/* Write rec's entry in its server maps for ttl_ms (removed while invisible). */
void presence_publish_servers(struct presence *p, const struct presence_conn *rec, uint64_t ttl_ms);
/* Refresh the conns-map entry of rec, for ttl_ms. */
void presence_publish_conn(struct presence *p, const struct presence_conn *rec, uint64_t ttl_ms);
/* Every entry this worker owns, again (the backend back); with announce,
 * each visible user is announced online again too. */
void presence_refresh_all(struct presence *p, int announce);
/* The next of PRESENCE_REFRESH_SLICES steps of the refresh (its timer):
 * the entries of the users of a tenth of the user buckets, so that each
 * is written again once per refresh period. */
void presence_refresh_slice(struct presence *p);
/* The backend is back: refresh, and if live workers took us for dead
 * meanwhile (and announced our users offline), announce them again. */
void presence_recovered(struct presence *p);
/* SBR_EVENT_CONNECT / SBR_EVENT_DISCONNECT (lost: see sbr_event_disconnect.lost). */
int presence_on_connect(struct presence *p, const sbr_event_connect *event);
void presence_on_disconnect(struct presence *p, sbr_conn_id conn, int lost);
/* Take rec's field out of the shared state (rec unlinked from the table,
 * taken): `offline` if it was the user's last connection anywhere. */
void presence_conn_remove(struct presence *p, struct presence_conn *rec);
/* A status change from any worker (topic PRESENCE_TOPIC). */
void presence_on_status(const char *topic, const char *data, size_t len, void *userdata);

/* This worker's id, the <worker> of the shared fields: the core's
 * (api->worker_id).  0, or -1 after api->set_error. */
int presence_worker_init(struct presence *p);

/* --- the users of dead workers (presence_reap.c) --- */
/* List rec's user, with its servers, as one of this worker's. */
void presence_user_listed(struct presence *p, const struct presence_conn *rec);
void presence_user_unlisted(struct presence *p, const char *user_id);
/* This worker is alive (written every beat_ms, and as soon as the
 * backend is reachable, so that a worker killed before its first beat
 * is reaped too). */
void presence_heartbeat(struct presence *p);
/* Heartbeat, and reap the workers that stopped beating (every beat_ms). */
void presence_reap_tick(struct presence *p);
/* Drop the reapings waiting for their grace (unload). */
void presence_reap_clear(struct presence *p);

/* --- lost connections in their grace (presence_grace.c) --- */
/* Keep a lost connection's field for grace_ms (taking rec, 0), then
 * remove it; -1 when it cannot (rec is still the caller's). */
int presence_grace_start(struct presence *p, struct presence_conn *rec);
/* Drop the graces (unload): their fields expire by themselves. */
void presence_grace_clear(struct presence *p);

/* --- offline said while the backend was away (presence_outage.c) --- */
/* Remember rec (taking it, 1) if it was announced offline while the
 * backend is away; 0 (rec still the caller's) otherwise. */
int presence_doubt_keep(struct presence *p, struct presence_conn *rec);
/* At each beat once the backend is back: announce online again those
 * still connected on another worker. */
void presence_doubt_check(struct presence *p);
void presence_doubt_clear(struct presence *p);

/* --- memberships that change while connected (presence_identity.c) --- */
/* SBR_EVENT_IDENTITY: a server joined shows the user to its members, a
 * server left shows them offline there. */
void presence_on_identity(struct presence *p, const sbr_event_identity *event);

/* --- client events and the server API (presence_events.c, presence_api.c) --- */
int presence_on_set(struct presence *p, const sbr_event_message *event);
int presence_on_snapshot(struct presence *p, const sbr_event_message *event);
/* The online members of a server map reply, as [{"user_id","status"}]. */
json_t *presence_members(const sbr_state_reply *reply);
void presence_http_get(sbr_http_request *req, void *userdata);

#endif
