/* Connections of Socket.IO (private to core/sio): what a client, a
 * connection and a room are; the table from ids to connections; and the
 * work deferred to the end of the loop turn (disconnects asked inside
 * hooks, sessions to drop, closed objects to free).  The bottom of core/sio:
 * it calls nothing else of it. */
#ifndef SBR_SIO_CONN_H
#define SBR_SIO_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <superbot-realtime/plugin.h>
#include "bus.h"
#include "hashtab.h"
#include "eio/eio_buf.h"
#include "eio/eio_session.h"
#include "hooks/hooks.h"
#include "sio/sio_packet.h"

struct sio_conn;

/* One Engine.IO session and the namespaces joined over it. */
struct sio_client {
    struct eio_session *eio;      /* NULL once the session closed */
    struct sio_conn *conns;       /* linked by client_next */
    struct event *connect_timer;  /* until the first namespace CONNECT, then freed */
    struct sio_binary *binary;    /* a binary packet waiting for attachments */
    unsigned closed : 1;
    unsigned ever_connected : 1;
    unsigned dropping : 1;        /* closing after this loop turn: send nothing more */
    const char *drop_reason;      /* a string literal */
    struct sio_client *reap_next;
};

struct sio_conn_room {
    struct sio_room *room;
    size_t index;                 /* our slot in room->members */
};

struct sio_recover;

struct sio_connect_state {
    struct hook_chain chain;
    sbr_event_connect event;
    char *auth_json;
    char *nsp_copy;
    struct sio_recover *recover;  /* a recovery asked for (sio_recover.c), or NULL */
    int recovery_asked;           /* the CONNECT carried a pid */
};

struct sio_stream;

enum sio_conn_state { SIO_CONN_CONNECTING, SIO_CONN_CONNECTED, SIO_CONN_CLOSED };

/* One Socket.IO socket: a namespace joined over a client's session. */
struct sio_conn {
    sbr_conn_id id;
    struct sio_conn *hash_next;
    struct sio_client *client;
    struct sio_conn *client_next;
    const char *nsp;              /* interned in the namespace list */
    unsigned state : 2;           /* enum sio_conn_state */
    unsigned offered : 1;         /* connect hooks saw it: disconnect hooks are due */
    unsigned in_chain : 1;
    unsigned resume_set : 1;      /* connect_resume called from inside the chain */
    unsigned disconnect_requested : 1;
    unsigned identity_notifying : 1; /* its SBR_EVENT_IDENTITY hooks run now */
    int resume_verdict;
    char *resume_reason;
    char *disconnect_reason;
    struct sio_connect_state *connect; /* while the connect chain runs */
    sbr_identity *identity;
    struct sio_stream *stream;    /* ids and offsets with recovery on (sio_stream.c), else NULL */
    struct sio_conn_room *rooms;
    size_t n_rooms, cap_rooms;
    struct sio_ack *acks;         /* acknowledgements the server asked for */
    /* Packets emitted while the CONNECT is pending: they go out just before
     * the CONNECT answer (the client buffers events that precede it and
     * replays them on connect), or are dropped if the CONNECT is refused. */
    struct eio_buf **held;
    size_t n_held, cap_held, held_bytes;
    uint64_t next_ack_id;
    uint64_t rate_window_start;
    uint64_t rate_count;
    struct sio_conn *reap_next;       /* on the list of closed connections to free */
    struct sio_conn *disconnect_next; /* on the list of requested disconnects */
};

struct sio_member {
    struct sio_conn *conn;
    size_t slot;                  /* index in conn->rooms */
};

struct sio_room {
    struct hashtab_node node;     /* in the room table, keyed by name */
    struct sio_member *members;
    size_t n, cap;
    char topic[];                 /* "room:<name>", in the same block: one allocation per room */
};

/* The room's name: its bus topic without the "room:" prefix. */
#define sio_room_name(r) ((r)->topic + sizeof(BUS_CORE_TOPIC_PREFIX) - 1)

/* A binary packet waiting for its attachments (pk.attachments of them). */
struct sio_binary {
    struct sio_packet pk;
    unsigned n;             /* received so far */
    struct eio_buf **att;
};

/* What waits for the end of the loop turn (sio_reap.c runs it). */
struct sio_deferred {
    struct sio_conn *disconnects;   /* asked with sio_conn_request_disconnect, by disconnect_next */
    struct sio_client *drops;       /* sessions to close, by reap_next */
    struct sio_conn *reap_conns;    /* closed connections to free, by reap_next */
    struct sio_client *reap_clients;/* closed clients to free (with their connections) */
};

extern struct sio_deferred sio_deferred;

/* The table, on base, and the function that runs the deferred work at the
 * end of a loop turn.  0 or -1. */
int sio_conn_table_init(struct event_base *base, event_callback_fn reap);
void sio_conn_table_free(void);
struct event_base *sio_event_base(void);
/* The connection of an id (closed ones included until they are freed), or NULL. */
struct sio_conn *sio_conn_find(sbr_conn_id id);
/* The same for a service call: closed connections are gone for plugins. */
struct sio_conn *sio_conn_live(sbr_conn_id id);
/* Give c a new id (never reused) and enter it; remove it. */
void sio_conn_insert(struct sio_conn *c);
void sio_conn_remove(struct sio_conn *c);
/* Take any connection out of the table (at exit), or NULL when empty. */
struct sio_conn *sio_conn_take_any(void);
/* Run the deferred work at the end of this loop turn. */
void sio_schedule_reap(void);
/* Disconnect after the current hook returns: DISCONNECT packet, then close. */
void sio_conn_request_disconnect(struct sio_conn *c, const char *reason);
/* The whole session goes away after the current hook returns; reason must
 * be a string literal. */
void sio_client_drop(struct sio_client *cl, const char *reason);
/* 1 if a connection of the client is not closed. */
int sio_client_has_live_conns(const struct sio_client *cl);
/* Free a client's own memory (its connections are freed apart). */
void sio_client_free(struct sio_client *cl);

#endif
