/* What the Socket.IO files share (private to core/sio). */
#ifndef SBR_SIO_INTERNAL_H
#define SBR_SIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>
#include "hashtab.h"
#include "eio/eio_buf.h"
#include "eio/eio_session.h"
#include "plugin/hooks.h"
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

struct sio_connect_state {
    struct hook_chain chain;
    sbr_event_connect event;
    char *auth_json;
    char *nsp_copy;
};

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
    int resume_verdict;
    char *resume_reason;
    char *disconnect_reason;
    struct sio_connect_state *connect; /* while the connect chain runs */
    sbr_identity *identity;
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
    char name[];                  /* in the same block: one allocation per room */
};

/* --- sio.c ------------------------------------------------------------- */
struct event_base *sio_event_base(void);
struct sio_conn *sio_conn_find(sbr_conn_id id);
/* Mark a connection closed now (rooms left, disconnect hooks run), free later. */
void sio_conn_close(struct sio_conn *c, const char *reason);
/* Disconnect after the current hook returns: DISCONNECT packet, then close. */
void sio_conn_request_disconnect(struct sio_conn *c, const char *reason);
/* End a connection for a reason its client should show rather than retry
 * blindly: the event disconnect_reason {"reason": code}, then a DISCONNECT
 * after the current hook returns.  code: see sio_reason_code_valid. */
void sio_conn_end(struct sio_conn *c, const char *code);
/* 1..64 characters of [a-z0-9_.-]: codes go into JSON unescaped. */
int sio_reason_code_valid(const char *code);
/* The whole session goes away after the current hook returns; reason must
 * be a string literal. */
void sio_client_drop(struct sio_client *cl, const char *reason);
/* Schedule the reap of closed objects at the end of this loop turn. */
void sio_schedule_reap(void);

/* --- sio_emit.c -------------------------------------------------------- */
/* Build one shared Engine.IO message packet:
 *     4<type>[<attachments>-][<nsp>,][<id>][<"event">,<rest>]
 * where rest is JSON text of the arguments without their brackets (may be
 * NULL) and event is NULL for acks.  NULL if the event is not UTF-8. */
struct eio_buf *sio_encode_packet(int type, unsigned attachments, const char *nsp, int has_id, uint64_t id,
                                  const char *event, const char *rest, size_t rest_len);
/* Check that args_json is a JSON array; point at its elements' text. */
int sio_args_inner(const char *args_json, const char **inner, size_t *inner_len, json_t **parsed);
/* 1 if the text is one valid JSON value. */
int sio_json_valid(const char *json);
/* Queue a packet to a connection, honouring the volatile flag and the
 * outbound cap; the buffer is referenced, not copied.  While the CONNECT
 * is pending the packet is held on the connection (see sio_conn.held). */
int sio_conn_send(struct sio_conn *c, struct eio_buf *b, unsigned flags);
/* The CONNECT was accepted: queue the held packets on the session, in order. */
void sio_conn_release_held(struct sio_conn *c);
/* The CONNECT was refused or the connection closed: drop the held packets. */
void sio_conn_drop_held(struct sio_conn *c);
/* Queue a Socket.IO packet given as text ("2[...]", "3/nsp,1[...]"). */
int sio_conn_send_text(struct sio_conn *c, const char *sio_packet, size_t len);

/* --- sio_room.c -------------------------------------------------------- */
void sio_rooms_leave_all(struct sio_conn *c);
void sio_rooms_free(void);

/* --- sio_rate.c -------------------------------------------------------- */
enum sio_rate_verdict { SIO_RATE_OK, SIO_RATE_LIMITED, SIO_RATE_ABUSE };
/* Count one client event against the connection's inbound rate; past it,
 * *retry_after_ms is what is left of the window. */
enum sio_rate_verdict sio_rate_check(struct sio_conn *c, uint64_t *retry_after_ms);
/* An event past the rate: answer its ack with rate_limited (LIMITED), or
 * end the connection (ABUSE: past twice the rate). */
void sio_rate_refuse(struct sio_conn *c, const struct sio_packet *pk, enum sio_rate_verdict verdict,
                     uint64_t retry_after_ms);

/* --- sio_ack.c --------------------------------------------------------- */
/* The client acknowledged packet id: call its callback (args: JSON array). */
void sio_ack_received(struct sio_conn *c, uint64_t id, json_t *args);
/* The connection is gone: every waiting callback gets NULL. */
void sio_acks_cancel(struct sio_conn *c);
/* Shutdown: free them without callbacks (plugins are unloaded). */
void sio_acks_discard(struct sio_conn *c);

/* --- sio_log.c -------------------------------------------------------- */
/* Connection-level lines at log_level = debug (nothing is prepared below). */
void sio_log_connected(const struct sio_conn *c);
void sio_log_refused(const struct sio_conn *c, const char *reason);
void sio_log_closed(const struct sio_conn *c, const char *reason);
void sio_log_room(const struct sio_conn *c, const char *room, int joined);
/* A client event answered with an error ("unknown_event" included). */
void sio_log_event_refused(const struct sio_conn *c, const char *event, const char *reason);
/* A plugin answered an event: logged when the answer is {"ok": false, "error": ...}. */
void sio_log_reply(const struct sio_conn *c, const char *event, const char *data_json);

/* --- sio_message.c ----------------------------------------------------- */
/* A client EVENT (or a BINARY_EVENT with its attachments, taken over). */
void sio_message_dispatch(struct sio_conn *c, struct sio_packet *pk, struct eio_buf **attachments, unsigned n);
void sio_messages_free(void);

#endif
