/* The typing plugin: typing indicators per channel (private).
 *
 * Shared state: the map "typing:<channel_id>" has one field per user typing
 * there, expiring after the TTL, so join_channel on any worker can list
 * them; its value names the worker that refreshed it last.  Each worker also
 * keeps the typings of its own connections, one entry per (user, channel)
 * with the connections typing and a timer that ends the typing
 * (typing_stop to the others) when the TTL runs out.  When a worker's part
 * ends by itself (its last typing connection leaves, disconnects or lets
 * the TTL pass) while the field names another worker, the user is still
 * typing there: that worker ends it in its turn. */
#ifndef SBR_TYPING_H
#define SBR_TYPING_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>
#include "chat_event.h"

#define TYPING_BUCKETS 1024

struct typing_entry {
    struct typing_entry *next; /* hash chain */
    struct typing *owner;
    char *user_id;
    char channel_id[CHAT_ID_MAX + 1];
    sbr_conn_id *conns;        /* local connections of the user typing here */
    size_t n_conns;
    size_t cap_conns;
    sbr_timer_id timer;        /* ends the typing after the TTL */
    uint64_t broadcast_ms;     /* when typing_start last went out */
};

struct typing {
    sbr_plugin *self;
    const sbr_api *api;
    uint64_t ttl_ms;
    uint64_t rebroadcast_ms;
    uint64_t beat_ms;          /* heartbeat period: a fifth of the TTL */
    uint64_t silence_ms;       /* a worker silent this long is dead: half the TTL */
    uint64_t connected_at;     /* now_ms when the shared backend was last reached again */
    sbr_timer_id beat_timer;
    char worker[CHAT_WORKER_MAX]; /* api->worker_id() (typing_worker_init) */
    struct typing_entry *buckets[TYPING_BUCKETS];
    sbr_conn_id *rechecks;     /* connections that left a server, looked at again (typing_identity.c) */
    size_t n_rechecks, cap_rechecks;
    sbr_timer_id recheck_timer;
};

/* --- the local table (typing_table.c) --- */
struct typing_entry *typing_table_find(struct typing *t, const char *user_id, const char *channel_id);
/* A new entry with no connection, or NULL. */
struct typing_entry *typing_table_add(struct typing *t, const char *user_id, const char *channel_id);
/* Unlink and free an entry (its timer must be stopped or fired). */
void typing_table_remove(struct typing *t, struct typing_entry *entry);
/* Record a connection in the entry; returns 0 or -1 (no memory). */
int typing_entry_add_conn(struct typing_entry *entry, sbr_conn_id conn);
/* Forget a connection; returns 1 if it was there. */
int typing_entry_drop_conn(struct typing_entry *entry, sbr_conn_id conn);
/* Call fn for every entry; fn may remove the entry it is given. */
void typing_table_foreach(struct typing *t, void (*fn)(struct typing *t, struct typing_entry *entry, void *arg),
                          void *arg);
/* Free every entry (unload). */
void typing_table_clear(struct typing *t);

/* --- the typings of dead workers (typing_reap.c) --- */
/* This worker's id, the value of the shared fields. */
int typing_worker_init(struct typing *t);
/* (Re)start the heartbeat for the current TTL. */
void typing_reap_configure(struct typing *t);
/* The backend is back (or new): beat now, and wait a TTL before reaping. */
void typing_reap_connected(struct typing *t);
/* Add (refresh) or remove a typing in this worker's list. */
void typing_listed(struct typing *t, const struct typing_entry *entry);
void typing_unlisted(struct typing *t, const struct typing_entry *entry);

/* --- the events (typing_events.c) --- */
/* Drop a typing from shared state and send typing_stop to the channel, except one connection (0: none). */
void typing_announce_end(struct typing *t, const char *channel_id, const char *user_id, sbr_conn_id except);
int typing_on_start(struct typing *t, const sbr_event_message *event);
int typing_on_stop(struct typing *t, const sbr_event_message *event);
/* send_message and leave_channel end the sender's typing and pass on. */
int typing_on_end_event(struct typing *t, const sbr_event_message *event, int leaving);
void typing_on_disconnect(struct typing *t, sbr_conn_id conn);
/* End conn's part of the typings in channels whose room it is no longer in. */
void typing_on_rooms_left(struct typing *t, sbr_conn_id conn);

/* --- a server left (typing_identity.c) --- */
/* SBR_EVENT_IDENTITY: a connection that left a server is looked at again
 * once the event is over, when the channels plugin has taken it out of
 * that server's channel rooms. */
void typing_on_identity(struct typing *t, const sbr_event_identity *event);
void typing_identity_clear(struct typing *t);

#endif
