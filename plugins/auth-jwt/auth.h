/* The auth-jwt plugin's shared state (private): settings read from conf.d
 * and the host table, handed to every hook, route and callback. */
#ifndef AUTH_JWT_AUTH_H
#define AUTH_JWT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <superbot-realtime/plugin.h>

#include "expiry_heap.h"
#include "token.h"

struct auth_settings {
    char *secret; /* realtime tokens */
    size_t secret_len;
    char *session_secret; /* session bearers of the primary app; "" disables them */
    size_t session_secret_len;
    char *audience;
    char *issuer;
    int64_t ttl_seconds;
    int64_t leeway_seconds;
    size_t max_token_bytes;
    int session_require_exp; /* session bearers without exp are refused */
    int expire_connections;  /* end sockets whose token expired without a refresh */
    int end_when_no_servers; /* end sockets whose user left the last server they had */
};

struct token_check;

struct auth {
    sbr_plugin *self;
    const sbr_api *api;
    struct auth_settings settings;
    int bus_failing; /* the last revocation lookup failed: warn once per outage */
    int removals_failing; /* the same for the removal lookups */
    struct token_check *checks; /* tokens waiting on the shared state (check.c) */
    struct expiry_heap expiry;  /* this worker's connections by expiry (expiry.c) */
    sbr_timer_id expiry_timer;
    uint64_t expiry_armed_ms;   /* when expiry_timer fires (0: not armed) */
};

/* How realtime tokens (strict) and session bearers (lenient) are judged now. */
void auth_rules_realtime(const struct auth *auth, struct token_rules *rules);
void auth_rules_session(const struct auth *auth, struct token_rules *rules);

/* Answer {"error": code} with status. */
void auth_reply_error(const struct auth *auth, sbr_http_request *req, int status, const char *code);

/* --- rooms (rooms.c) --- */
/* Room names with an id ("server:<id>"): a prefix plus at most TOKEN_ID_MAX bytes. */
#define ROOM_NAME_MAX (TOKEN_ID_MAX + 16)
/* Join or leave the room prefix + id; the service's status. */
int auth_room_join(const struct auth *auth, sbr_conn_id conn, const char *prefix, const char *id);
int auth_room_leave(const struct auth *auth, sbr_conn_id conn, const char *prefix, const char *id);
/* The local members of room prefix + id (id_len bytes), gathered; free ids. */
struct auth_conns {
    sbr_conn_id *ids;
    size_t n, cap;
    int failed; /* out of memory: some are missing */
};
void auth_room_members(const struct auth *auth, const char *prefix, const char *id, size_t id_len,
                       struct auth_conns *out);

/* POST /api/realtime/token */
void token_route_handle(sbr_http_request *req, void *userdata);

/* SBR_EVENT_CONNECT and SBR_EVENT_CONNECTED. */
int connect_hook(enum sbr_event_id id, void *event, void *userdata);
int connected_hook(enum sbr_event_id id, void *event, void *userdata);

/* --- a verified token checked against the shared state (check.c) ---
 * Before its claims are believed, a token is checked against the session
 * denylist (when it has a sid) and its user's removals (when it lists
 * servers), both asked at once.  Removed servers are dropped from the
 * claims; a membership removed while the check waits is dropped too. */
struct token_check {
    struct auth *auth;
    struct token_check *prev, *next; /* in auth->checks */
    sbr_conn_id conn;
    struct token_claims claims; /* owned */
    int pending;                /* replies still due */
    int revoked;                /* the session is on the denylist */
    void (*done)(struct token_check *check); /* once, then it frees the check */
    sbr_message *msg;           /* refresh_token: the message to answer */
    const sbr_recovery *recovery; /* connect: what a recovering connection had, or NULL */
};
/* A check of conn for claims (taken: the caller's copy is emptied). */
struct token_check *check_new(struct auth *auth, sbr_conn_id conn, struct token_claims *claims);
/* Ask the shared state; 1 when `done` will be called later, 0 when there
 * was nothing to ask (the claims are usable now, and done is not called). */
int check_start(struct token_check *check);
void check_free(struct token_check *check);
/* A membership removed now: drop it from the claims of the user's checks. */
void check_drop_server(struct auth *auth, const char *user_id, const char *server_id);
/* Every check still waiting (unload: the bus drops answers at shutdown). */
void check_free_all(struct auth *auth);

/* --- removals of a user from a server, kept in shared state (removal.c) ---
 * Map "auth:removed:<user>", field <server> = the removal's wall-clock ms,
 * each field living ttl_seconds + leeway_seconds: as long as a token issued
 * before it can live. */
#define REMOVAL_KEY_PREFIX "auth:removed:"
/* Remember (DELETE) or forget (PUT) a removal; done as for map_set/map_del. */
int removal_store(struct auth *auth, const char *user_id, const char *server_id, sbr_state_done_fn done,
                  void *userdata);
int removal_clear(struct auth *auth, const char *user_id, const char *server_id, sbr_state_done_fn done,
                  void *userdata);
/* Drop from claims the servers the reply (the user's removal map) says were
 * removed at or after the token's iat. */
void removal_filter(const sbr_state_reply *reply, struct token_claims *claims);
/* Drop one server from the claims' servers and moderates. */
void removal_drop(struct token_claims *claims, const char *server_id);

/* --- live memberships (membership.c, membership_route.c) --- */
#define MEMBERSHIP_TOPIC "auth.membership"
/* 1 if id is one of list[0..n). */
int auth_list_has(const char *const *list, size_t n, const char *id);
/* PUT and DELETE /api/realtime/users/{user_id}/servers/{server_id} */
void membership_route_handle(sbr_http_request *req, void *userdata);
/* A change from any worker: applied to this worker's sockets of the user. */
void membership_bus_message(const char *topic, const char *data, size_t len, void *userdata);
/* SBR_EVENT_IDENTITY: the server rooms follow the identity, the client is
 * told, the expiry follows expires_at, and a socket left with no server
 * ends when end_when_no_servers. */
int membership_identity_hook(enum sbr_event_id id, void *event, void *userdata);
/* The identity the claims give (strings borrowed from them). */
void membership_identity_of(const struct token_claims *claims, sbr_identity *out);

/* --- refresh_token (refresh.c) --- */
int refresh_handler(enum sbr_event_id id, void *event, void *userdata);

/* --- token expiry (expiry.c) --- */
/* Follow conn's expiry (unix seconds; 0: none). */
void expiry_track(struct auth *auth, sbr_conn_id conn, int64_t expires_at);
void expiry_forget(struct auth *auth, sbr_conn_id conn);
/* Arm or stop the timer for the current settings (load, reload). */
void expiry_configure(struct auth *auth);
void expiry_free(struct auth *auth);

/* POST /api/realtime/sessions/{sid}/revoke, and the "auth.revoke" topic
 * every worker listens to. */
#define REVOKE_TOPIC "auth.revoke"
#define REVOKE_KEY_PREFIX "auth:revoked:"
void revoke_route_handle(sbr_http_request *req, void *userdata);
void revoke_bus_message(const char *topic, const char *data, size_t len, void *userdata);

#endif
