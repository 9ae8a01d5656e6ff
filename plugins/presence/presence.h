/* The presence plugin: who is online in each server, with status (private).
 *
 * Shared state, every field expiring after the TTL unless refreshed by the
 * worker holding the connection:
 *   "presence:conns:<user>"    field "<worker>:<conn>" = status, one per live connection
 *   "presence:server:<server>" field "<user>" = status, the visible online members
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
#define PRESENCE_TOPIC "presence:status"
#define PRESENCE_STATUS_MAX 16

/* One local connection of an identified user. */
struct presence_conn {
    struct presence_conn *next; /* hash chain */
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
    char worker[17]; /* random 64-bit id of this worker, hex */
    struct presence_conn *buckets[PRESENCE_BUCKETS];
    size_t count; /* connections in the table */
};

/* --- the local connections (presence_table.c) --- */
struct presence_conn *presence_table_find(struct presence *p, sbr_conn_id conn);
/* Record a connection with a copy of its identity, status "online"; NULL on no memory. */
struct presence_conn *presence_table_add(struct presence *p, sbr_conn_id conn, const sbr_identity *who);
/* Unlink a connection (the caller frees it). */
void presence_table_unlink(struct presence *p, struct presence_conn *rec);
void presence_conn_free(struct presence_conn *rec);
void presence_table_foreach(struct presence *p, void (*fn)(struct presence *p, struct presence_conn *rec, void *arg),
                            void *arg);
void presence_table_clear(struct presence *p);

/* --- shared state (presence_state.c) --- */
/* 1 if status is one a client may set. */
int presence_status_valid(const char *status);
/* What others see: "offline" for invisible. */
const char *presence_status_shown(const char *status);
/* presence_update {"server_id","user_id","status"} to every server room of rec. */
void presence_announce(struct presence *p, const struct presence_conn *rec, const char *shown);
/* Write rec's entry in its server maps (removed while invisible). */
void presence_publish_servers(struct presence *p, const struct presence_conn *rec);
/* Refresh the conns-map entry of rec. */
void presence_publish_conn(struct presence *p, const struct presence_conn *rec);
/* Every entry this worker owns, again (refresh timer, backend back). */
void presence_refresh_all(struct presence *p);
/* SBR_EVENT_CONNECT / SBR_EVENT_DISCONNECT. */
int presence_on_connect(struct presence *p, const sbr_event_connect *event);
void presence_on_disconnect(struct presence *p, sbr_conn_id conn);
/* A status change from any worker (topic PRESENCE_TOPIC). */
void presence_on_status(const char *topic, const char *data, size_t len, void *userdata);

/* --- client events and the server API (presence_events.c, presence_api.c) --- */
int presence_on_set(struct presence *p, const sbr_event_message *event);
int presence_on_snapshot(struct presence *p, const sbr_event_message *event);
/* The online members of a server map reply, as [{"user_id","status"}]. */
json_t *presence_members(const sbr_state_reply *reply);
void presence_http_get(sbr_http_request *req, void *userdata);

#endif
