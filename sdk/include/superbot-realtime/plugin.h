/*
 * superbot-realtime plugin SDK: the one public header a plugin includes.
 *
 * A plugin is a shared object that exports one symbol, SBR_ENTRY_SYMBOL,
 * returning a const descriptor (fill it with SBR_PLUGIN_DEFINE).  The core
 * checks the descriptor's ABI version for equality, validates the plugin's
 * declared config keys against its conf.d file, then calls on_load with a
 * table of services (struct sbr_api).  Everything a plugin does goes through
 * that table: no symbol of the executable is ever linked against.
 *
 * Threading: the core runs one event loop on one thread.  Every hook,
 * callback and service below runs on, and must be called from, that thread.
 *
 * Memory: strings passed to a service are copied by the core unless a
 * comment says otherwise.  Strings the core hands to a hook are owned by the
 * core and live for the duration of the hook, or as a comment says.
 *
 * Versioning: SBR_ABI_VERSION changes whenever an existing struct member or
 * function signature changes; the core refuses a plugin built for another
 * ABI.  New services are only ever appended to struct sbr_api (see
 * SBR_API_HAS), new events get new ids, and event structs only grow at the
 * end, so a plugin built against an older header of the same ABI keeps
 * working.  This header includes only the C library.
 */
#ifndef SUPERBOT_REALTIME_PLUGIN_H
#define SUPERBOT_REALTIME_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The plugin ABI this header describes; checked for equality at load. */
#define SBR_ABI_VERSION 1

/** Name of the one symbol a plugin exports. */
#define SBR_ENTRY_SYMBOL "sbr_plugin_entry"

#ifdef __cplusplus
#define SBR_EXTERN_C extern "C"
#else
#define SBR_EXTERN_C
#endif

#if defined(__GNUC__)
#define SBR_EXPORT SBR_EXTERN_C __attribute__((visibility("default")))
#define SBR_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define SBR_EXPORT SBR_EXTERN_C
#define SBR_PRINTF(fmt, args)
#endif

/** The core's record of one loaded plugin; opaque, passed back to services. */
typedef struct sbr_plugin sbr_plugin;

/**
 * A Socket.IO connection (one client socket on the main namespace) on this
 * worker.  Ids are never reused within a process, so a plugin may keep one
 * after the connection is gone: services then fail with SBR_ERR_GONE.  0 is
 * never a valid id.
 */
typedef uint64_t sbr_conn_id;

/** A client event in flight (see SBR_EVENT_MESSAGE); opaque. */
typedef struct sbr_message sbr_message;

/** An HTTP request routed to a plugin; opaque, valid until answered. */
typedef struct sbr_http_request sbr_http_request;

/** A timer; 0 is never a valid id. */
typedef uint64_t sbr_timer_id;

/* ------------------------------------------------------------------ */
/* Results and verdicts                                                */
/* ------------------------------------------------------------------ */

/** Return codes of services: 0 is success, negative is an error. */
enum sbr_status {
    SBR_OK = 0,
    SBR_ERR_INVALID = -1,   /* bad argument (NULL, malformed JSON, bad name) */
    SBR_ERR_GONE = -2,      /* the connection, message or request is over */
    SBR_ERR_STATE = -3,     /* not allowed now (e.g. registering after on_load) */
    SBR_ERR_NOMEM = -4,
    SBR_ERR_LIMIT = -5,     /* a configured limit was hit (buffer cap, size) */
    SBR_ERR_UNAVAILABLE = -6 /* no bus provider, or the backend failed */
};

/** What a refusable hook answers (SBR_EVENT_CONNECT, SBR_EVENT_MESSAGE). */
enum sbr_verdict {
    SBR_PASS = 0,    /* no opinion: the next plugin in conf.d order is asked */
    SBR_REFUSE = 1,  /* stop: set event->reason; it reaches the client */
    SBR_CONSUME = 2, /* handled: no later plugin sees it (messages only) */
    SBR_PENDING = 3  /* decided later: call connect_resume/message_resume */
};

enum sbr_log_level {
    SBR_LOG_DEBUG = 0,
    SBR_LOG_INFO = 1,
    SBR_LOG_WARN = 2,
    SBR_LOG_ERROR = 3
};

/* ------------------------------------------------------------------ */
/* Declared configuration                                              */
/* ------------------------------------------------------------------ */

enum sbr_config_type {
    SBR_CONF_STRING = 1,
    SBR_CONF_INT = 2,    /* 64-bit signed integer, bounds min..max */
    SBR_CONF_BOOL = 3,   /* true/false, yes/no, on/off, 1/0 */
    SBR_CONF_DOUBLE = 4  /* bounds min..max */
};

/** Key flags. */
#define SBR_CONF_SECRET 0x1u     /* value never logged nor shown */
#define SBR_CONF_RELOADABLE 0x2u /* may change on SIGHUP without restart */
#define SBR_CONF_REQUIRED 0x4u   /* an empty value after expansion is an error */

/**
 * One key a plugin accepts in its conf.d file.  The core refuses unknown
 * keys, values of the wrong type and values out of bounds, naming the file
 * and line.  `default_value` is used when the key is absent (NULL: the key
 * reads as "" / 0 / false).  Bounds apply when min < max.  Terminate the
 * array with SBR_CONF_END.
 */
typedef struct sbr_config_key {
    const char *name;
    enum sbr_config_type type;
    const char *default_value;
    double min;
    double max;
    unsigned flags;
    const char *help; /* one line describing the key, for documentation */
} sbr_config_key;

#define SBR_CONF_END {NULL, (enum sbr_config_type)0, NULL, 0, 0, 0, NULL}

/* ------------------------------------------------------------------ */
/* Events and hooks                                                    */
/* ------------------------------------------------------------------ */

/** Event ids for api->hook_register.  New ids are only ever appended. */
enum sbr_event_id {
    SBR_EVENT_CONNECT = 1,    /* struct sbr_event_connect; refusable */
    SBR_EVENT_CONNECTED = 2,  /* struct sbr_event_connected */
    SBR_EVENT_DISCONNECT = 3, /* struct sbr_event_disconnect */
    SBR_EVENT_MESSAGE = 4,    /* struct sbr_event_message; refusable */
    SBR_EVENT_RELOAD = 5,     /* struct sbr_event_reload */
    SBR_EVENT_BUS_STATE = 6,  /* struct sbr_event_bus_state */
    SBR_EVENT_IDENTITY = 7,   /* struct sbr_event_identity */
    SBR_EVENT_COUNT_ = 8
};

/**
 * True if an event struct handed to a hook has `member` (appended in a
 * later minor version): SBR_EVENT_HAS(ev, sbr_event_connected, recovered).
 */
#define SBR_EVENT_HAS(ev, type, member) \
    ((ev)->struct_size >= offsetof(type, member) + sizeof(((const type *)0)->member))

/**
 * One callback signature for every event.  `event` points to the event's
 * struct (check event->struct_size before reading members added later).
 * Refusable events return an enum sbr_verdict; the others return 0.
 */
typedef int (*sbr_hook_fn)(enum sbr_event_id id, void *event, void *userdata);

/**
 * A client asks to connect to the main namespace (Socket.IO CONNECT).
 * Hooks run in conf.d order; the first SBR_REFUSE wins and `reason`
 * becomes the CONNECT_ERROR message.  SBR_PENDING suspends the chain until
 * api->connect_resume.  When every hook passed, the client gets its
 * CONNECT answer and SBR_EVENT_CONNECTED follows.  Events emitted to the
 * connection before the verdict (api->emit, api->emit_with_ack, or a room
 * it already joined) are held and reach the client, in order, right after
 * its CONNECT answer (the answer is always the namespace's first packet)
 * and before anything SBR_EVENT_CONNECTED hooks emit; a refusal drops them.
 */
typedef struct sbr_event_connect {
    size_t struct_size;
    sbr_conn_id conn;
    const char *nsp;       /* "/" or a namespace added with api->namespace_add */
    const char *auth_json; /* the CONNECT auth payload as JSON text, or NULL */
    const char *reason;    /* out, with SBR_REFUSE: a string that lives at least until the hook returns */
    void *reserved[8];
    /* Appended (check with SBR_EVENT_HAS): */
    /**
     * Not NULL when the client asks to recover a connection it lost within
     * the core's recovery_window_seconds (connection state recovery): what
     * that connection had.  Decide as for any connect (verify the token,
     * set the identity, refuse a revoked session); the core restores the
     * connection only if the identity the chain set names the same user,
     * and the same session when the old one had one, and otherwise goes on
     * with a fresh connection.  A hook may leave rooms out of the restore
     * through `keep`.  Owned by the core, valid during the connect chain.
     */
    const struct sbr_recovery *recovery;
} sbr_event_connect;

/**
 * A lost connection's state offered back (sbr_event_connect.recovery).
 * `rooms` are the rooms it was in; `keep` has one flag per room, 1 on
 * entry: a connect hook sets keep[i] = 0 for a room the connection may no
 * longer be in (a server the user left), which is then neither joined nor
 * replayed.  Rooms the hooks join themselves are joined as usual.
 */
typedef struct sbr_recovery {
    size_t struct_size;
    const char *sid;          /* the Socket.IO id it had, and gets back */
    const char *user_id;      /* whose connection it was */
    const char *session_id;   /* its session id, or NULL */
    const char *const *rooms;
    size_t n_rooms;
    unsigned char *keep;      /* in/out, n_rooms flags */
    void *reserved[4];
} sbr_recovery;

/** The connection is accepted and the client has its CONNECT answer. */
typedef struct sbr_event_connected {
    size_t struct_size;
    sbr_conn_id conn;
    void *reserved[8];
    /* Appended (check with SBR_EVENT_HAS): */
    /**
     * 1 when this is a recovered connection: the client got its old socket
     * id and rooms back and, before its CONNECT answer, every room event it
     * missed.  auth-jwt says so in `ready`.  Plugins should not announce it
     * as a new arrival nor redo what its rooms restore.
     */
    int recovered;
    /** 1 when the client asked for a recovery (its CONNECT carried a pid), whether or not it got one. */
    int recovery_asked;
} sbr_event_connected;

/**
 * The connection is gone.  Delivered for every connection that was offered
 * to SBR_EVENT_CONNECT hooks, whether or not it completed (`was_connected`),
 * so a plugin that recorded something in its connect hook can always undo
 * it.  The connection has already left its rooms; emitting to it fails.
 */
typedef struct sbr_event_disconnect {
    size_t struct_size;
    sbr_conn_id conn;
    int was_connected;
    const char *reason; /* "client namespace disconnect", "transport close", "ping timeout", "server shutting down", ... */
    void *reserved[8];
    /* Appended (check with SBR_EVENT_HAS): */
    /**
     * 1 when the connection was lost rather than ended: its transport
     * closed or failed, a ping timed out, the worker drained, or its output
     * backed up past the cap.  Its client reconnects by itself, usually
     * within seconds (presence waits its grace before saying offline).  0
     * for a client's DISCONNECT and for every ending the server chose
     * (conn_disconnect, conn_end, a refused CONNECT).
     */
    int lost;
} sbr_event_disconnect;

/**
 * A client event: `42["name", ...args]`, with or without an ack id.
 * Hooks run in conf.d order.  SBR_PASS asks the next plugin; SBR_REFUSE
 * answers the ack with {"ok": false, "error": reason}; SBR_CONSUME means the
 * plugin answered, or will answer, with api->message_reply; SBR_PENDING
 * suspends the chain until api->message_resume (or api->message_reply,
 * which consumes).  When no plugin consumes, the ack is answered with
 * {"ok": false, "error": "unknown_event"}.  `msg`, `event` and `args_json`
 * stay valid until the message is answered or resumed to its end.
 */
typedef struct sbr_event_message {
    size_t struct_size;
    sbr_conn_id conn;
    sbr_message *msg;
    const char *event;     /* event name, NUL-terminated */
    const char *args_json; /* JSON array of the arguments after the name, e.g. [{"channel_id":"1"}] */
    size_t args_len;
    int wants_ack;         /* the client asked for an acknowledgement */
    const char *reason;    /* out, with SBR_REFUSE: an error code such as "forbidden" */
    void *reserved[8];
} sbr_event_message;

/** conf.d was re-read (SIGHUP) and validated: re-read reloadable keys. */
typedef struct sbr_event_reload {
    size_t struct_size;
    void *reserved[4];
} sbr_event_reload;

/** The state-and-bus backend changed state (see enum sbr_bus_state). */
typedef struct sbr_event_bus_state {
    size_t struct_size;
    int state;          /* enum sbr_bus_state */
    int previous;
    const char *detail; /* why, for logs */
    void *reserved[4];
} sbr_event_bus_state;

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

/**
 * Who a connection is, set by the authenticating plugin and read by the
 * others.  api->conn_set_identity deep-copies it; api->conn_identity returns
 * the core's copy, valid until the identity changes or the connection ends.
 */
typedef struct sbr_identity {
    size_t struct_size;
    const char *user_id;    /* never NULL once set */
    const char *session_id; /* or NULL */
    const char *const *servers; /* server ids the user is a member of */
    size_t n_servers;
    const char *const *moderates; /* server ids the user moderates */
    size_t n_moderates;
    int64_t expires_at; /* unix seconds when the credential expires, 0 if unknown */
    void *reserved[4];
} sbr_identity;

/**
 * A connection's identity was replaced: api->conn_set_identity on a
 * connection that already had one (a refreshed token, a membership added
 * or removed through the server API).  Not raised for the first identity,
 * which SBR_EVENT_CONNECT hooks see.  Raised from inside conn_set_identity,
 * once the new identity is in place (api->conn_identity returns `current`),
 * in conf.d order.  The lists are the differences between the two
 * identities' servers and moderates, each id once, in no particular order;
 * every string points into `previous` or `current`, owned by the core and
 * valid during the hook only.  A hook may emit, join and leave rooms and
 * end the connection (conn_end, conn_disconnect: after the hook returns);
 * conn_set_identity on the same connection is refused there (SBR_ERR_STATE).
 */
typedef struct sbr_event_identity {
    size_t struct_size;
    sbr_conn_id conn;
    const sbr_identity *previous; /* the identity replaced */
    const sbr_identity *current;  /* the identity now */
    const char *const *servers_added;   /* in current->servers, not in previous->servers */
    size_t n_servers_added;
    const char *const *servers_removed; /* in previous->servers, not in current->servers */
    size_t n_servers_removed;
    const char *const *moderates_added;
    size_t n_moderates_added;
    const char *const *moderates_removed;
    size_t n_moderates_removed;
    void *reserved[8];
} sbr_event_identity;

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

/**
 * An HTTP route handler.  The request stays valid until api->http_reply is
 * called, which must happen exactly once, in the handler or later (for an
 * answer that waits on the bus).  If the client went away meanwhile the
 * reply is dropped silently.
 */
typedef void (*sbr_http_handler)(sbr_http_request *req, void *userdata);

/* ------------------------------------------------------------------ */
/* State and bus                                                       */
/* ------------------------------------------------------------------ */

enum sbr_bus_state {
    SBR_BUS_LOCAL = 0,     /* in-process only, by configuration ("disabled") */
    SBR_BUS_CONNECTED = 1, /* shared backend up */
    SBR_BUS_DOWN = 2       /* shared backend configured but unreachable: serving in-process */
};

/**
 * The answer of a state operation.  Which members mean something depends on
 * the operation (see each service).  Everything it points to is owned by the
 * bus and valid only during the callback.
 */
typedef struct sbr_state_reply {
    size_t struct_size;
    int status;          /* SBR_OK, or SBR_ERR_UNAVAILABLE when the backend failed */
    int found;           /* kv_get: the key exists */
    const char *value;   /* kv_get: its value (NUL-terminated) */
    size_t value_len;
    int64_t count;       /* map_set/map_del/map_count: live fields after the operation; incr: the new value */
    int changed;         /* map_set: the field is new; map_del/kv_del: something was removed */
    int acquired;        /* reserve: the key was free and is now ours */
    int64_t remaining_ms;/* reserve refused: time left on the holder's reservation */
    size_t n;            /* map_get_all: number of live fields */
    const char *const *fields;
    const char *const *values;
    void *reserved[4];
} sbr_state_reply;

typedef void (*sbr_state_done_fn)(const sbr_state_reply *reply, void *userdata);

/** A message on a bus topic; data is owned by the core, valid during the call. */
typedef void (*sbr_bus_message_fn)(const char *topic, const char *data, size_t len, void *userdata);

/**
 * A replay asked of the room log (sbr_bus_provider.room_replay): the events
 * of `topics` ("room:<name>" each) with an offset above `after`.  The
 * request and what it points to live only during the call: a provider that
 * answers later copies what it needs.
 */
typedef struct sbr_room_replay {
    size_t struct_size;
    const char *const *topics;
    size_t n_topics;
    uint64_t after;      /* only events with a larger offset */
    uint64_t max_events; /* each log's cap, as given to room_publish */
    uint64_t max_total;  /* more events than this in all: answer complete = 0 */
    void *reserved[4];
} sbr_room_replay;

/**
 * The answer of a replay.  Everything it points to is owned by the bus
 * and valid only during the callback.  The events are those logged with
 * an offset in (after, last], by increasing offset; every event of the
 * topics with an offset above `last` reaches this worker through
 * api->bus_deliver_room after the answer (provided the topics stay
 * subscribed).  `complete` is 0 when the logs cannot prove they hold every
 * such event (a log trimmed past `after`, more than max_total events, a
 * stretch when the backend could not sequence): the caller must not treat
 * the answer as the whole of what was missed.
 */
typedef struct sbr_room_replay_reply {
    size_t struct_size;
    int status;                 /* SBR_OK, or SBR_ERR_UNAVAILABLE when the backend failed */
    int complete;
    uint64_t last;
    size_t n;
    const uint64_t *offsets;    /* increasing */
    const size_t *topics;       /* the index of each event's topic in the request */
    const char *const *excepts; /* the socket id each event skips, or "" */
    const char *const *packets; /* each event's packet as given to room_publish */
    const size_t *lens;
    void *reserved[4];
} sbr_room_replay_reply;

typedef void (*sbr_room_replay_fn)(const sbr_room_replay_reply *reply, void *userdata);

/**
 * What a bus plugin implements (api->bus_provide).  The core routes the
 * state services of struct sbr_api here and keeps topic subscriptions
 * itself: `subscribe` is called when this worker gains its first interest in
 * a topic and `unsubscribe` when it loses its last.  `publish` must reach the
 * other workers only (the core delivers to this worker itself); a message
 * arriving from another worker is handed to api->bus_deliver.  Every `done`
 * callback is invoked exactly once, later, from the event loop, never before
 * the call returns.  A provider that loses its backend keeps answering from
 * in-process state and reports the change with api->bus_set_state.
 */
typedef struct sbr_bus_provider {
    size_t struct_size;
    const char *name;
    int (*kv_set)(void *ctx, const char *key, const char *value, size_t len, uint64_t ttl_ms,
                  sbr_state_done_fn done, void *userdata);
    int (*kv_get)(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
    int (*kv_del)(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
    int (*reserve)(void *ctx, const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    int (*map_set)(void *ctx, const char *key, const char *field, const char *value, uint64_t ttl_ms,
                   sbr_state_done_fn done, void *userdata);
    int (*map_del)(void *ctx, const char *key, const char *field, sbr_state_done_fn done, void *userdata);
    int (*map_get_all)(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
    int (*map_count)(void *ctx, const char *key, sbr_state_done_fn done, void *userdata);
    int (*publish)(void *ctx, const char *topic, const char *data, size_t len);
    int (*subscribe)(void *ctx, const char *topic);
    int (*unsubscribe)(void *ctx, const char *topic);
    /**
     * api->incr: add delta to the integer at key (absent: 0), giving it a
     * ttl_ms expiry when it has none and ttl_ms > 0, atomically for every
     * worker; reply count (the new value), or status SBR_ERR_INVALID for a
     * value that is not an integer or an overflow.  (Added in ABI 1 in place
     * of a reserved slot: a provider built before it has NULL there.)
     */
    int (*incr)(void *ctx, const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    /*
     * The room log, for connection state recovery (the core's
     * recovery_window_seconds; added in ABI 1 in place of reserved slots: a
     * provider built before them has NULL there, and the core then runs
     * without recovery).  Offsets come from one sequence for every worker
     * sharing the bus: strictly increasing, and never below one this worker
     * was handed before, even when the backend lost the sequence.
     */
    /**
     * Give the packet `data` (a Socket.IO event packet "42[...]") the next
     * offset, append it with `except` (a socket id, "" for none) to the log
     * of `topic` (a "room:" topic; at most max_events entries, each kept
     * keep_ms after the log's last append), and hand it with `except` and
     * `flags` (SBR_EMIT_*) through api->bus_deliver_room to every worker
     * subscribed to the topic, this one included, each worker receiving
     * every topic's events in offset order.  May deliver to this worker
     * before returning.
     * SBR_ERR_UNAVAILABLE when it cannot sequence now (the backend is
     * away): the core then delivers without an offset, and the provider
     * must answer later replays reaching back before that moment with
     * complete = 0.
     */
    int (*room_publish)(void *ctx, const char *topic, const char *data, size_t len, const char *except,
                        unsigned flags, uint64_t max_events, uint64_t keep_ms);
    /** Answer a replay (see sbr_room_replay_reply); `done` exactly once, later. */
    int (*room_replay)(void *ctx, const sbr_room_replay *request, sbr_room_replay_fn done, void *userdata);
    /**
     * Call `done` (status SBR_OK, or SBR_ERR_UNAVAILABLE) once every room
     * event this worker published before the call has been handed to
     * api->bus_deliver_room here (for the topics it is subscribed to), with
     * `count` the sequence's value at that point (0: unknown): no event of
     * a subscribed topic at or below it will be handed over afterwards.
     * Exactly once, later.
     */
    int (*room_flush)(void *ctx, sbr_state_done_fn done, void *userdata);
    /**
     * Optional (NULL: nothing to prepare).  Called by the core when
     * connection state recovery is on, once, when the provider registers
     * (bus_provide), before the core subscribes it to anything: from then
     * on every room event room_publish sequences must reach every worker
     * subscribed to its topic.  (bus-redis on a Redis Cluster then
     * subscribes room topics with classic SUBSCRIBE, since its sequencer
     * publishes from one slot.)  From the event loop.
     */
    void (*room_log_on)(void *ctx);
    void *reserved[3];
} sbr_bus_provider;

/** Types of metric_declare. */
enum sbr_metric_type {
    SBR_METRIC_COUNTER = 1, /* only goes up: metric_add */
    SBR_METRIC_GAUGE = 2    /* set to a value: metric_set */
};

/** Emit flags. */
#define SBR_EMIT_VOLATILE 0x1u /* may be dropped for a connection whose output is backed up */

/* ------------------------------------------------------------------ */
/* The services table                                                  */
/* ------------------------------------------------------------------ */

/**
 * Services the core offers, handed to on_load.  The pointer stays valid
 * until on_unload returns.  Unless said otherwise a service may be called
 * from any hook or callback, and returns an enum sbr_status.
 */
typedef struct sbr_api {
    uint32_t abi_version; /* SBR_ABI_VERSION of the core */
    uint32_t struct_size; /* grows as services are appended: see SBR_API_HAS */

    /* --- logging and configuration ---------------------------------- */

    /** Log one line to stderr, prefixed with the level and the plugin's name. */
    void (*log)(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...) SBR_PRINTF(3, 4);
    /** Set the reason a failing on_load gives; the core prints it with the conf file and line. */
    void (*set_error)(sbr_plugin *self, const char *fmt, ...) SBR_PRINTF(2, 3);
    /** The validated value of a declared key, as text (""), never NULL for a declared key. Owned by the core, valid until the next reload. */
    const char *(*config_string)(sbr_plugin *self, const char *key);
    int64_t (*config_int)(sbr_plugin *self, const char *key);
    int (*config_bool)(sbr_plugin *self, const char *key);
    double (*config_double)(sbr_plugin *self, const char *key);

    /* --- hooks and timers ------------------------------------------ */

    /** Register fn for an event; only from on_load. Hooks of one event run in conf.d order. */
    int (*hook_register)(sbr_plugin *self, enum sbr_event_id id, sbr_hook_fn fn, void *userdata);
    /** Run fn after delay_ms, and every delay_ms if `repeat`. Returns 0 on failure. Stopped by the core at unload. */
    sbr_timer_id (*timer_start)(sbr_plugin *self, uint64_t delay_ms, int repeat, void (*fn)(void *userdata), void *userdata);
    /** Stop a timer; a stopped or fired one-shot timer is ignored. */
    void (*timer_stop)(sbr_plugin *self, sbr_timer_id timer);
    /** Wall-clock milliseconds since the Unix epoch, from the core's clock (settable in tests). */
    uint64_t (*now_ms)(void);

    /* --- HTTP ------------------------------------------------------- */

    /**
     * Route `method` (GET, POST, PUT, DELETE) and `pattern` to fn; only from
     * on_load.  A pattern segment `{name}` matches one non-empty path
     * segment, read with http_param.  The core answers 404/405 and the CORS
     * preflight itself, and limits header and body sizes before the handler
     * runs.  The core's own paths (Socket.IO's `path`, /healthz, /metrics)
     * are refused with SBR_ERR_INVALID.
     */
    int (*http_route)(sbr_plugin *self, const char *method, const char *pattern, sbr_http_handler fn, void *userdata);
    const char *(*http_method)(sbr_http_request *req);
    const char *(*http_path)(sbr_http_request *req);
    /** A `{name}` segment of the route, percent-decoded, or NULL. */
    const char *(*http_param)(sbr_http_request *req, const char *name);
    /** A request header (case-insensitive name), or NULL. */
    const char *(*http_header)(sbr_http_request *req, const char *name);
    /** The request body (not NUL-terminated; may be NULL when *len is 0). */
    const char *(*http_body)(sbr_http_request *req, size_t *len);
    /**
     * Answer the request, exactly once.  `json_body` is sent as
     * application/json (NULL: empty body).  `extra_headers` is NULL or
     * "Name: value" lines separated by "\r\n".  Frees the request.
     */
    int (*http_reply)(sbr_http_request *req, int status, const char *json_body, const char *extra_headers);
    /**
     * 1 if the request carries "Authorization: Bearer <api_key>" with the
     * core's `api_key` (REALTIME_API_KEY), compared in constant time; 0
     * otherwise, and always 0 when no api_key is configured (the server API
     * is then disabled).  Server-API handlers answer 401 on 0.
     */
    int (*http_check_api_key)(sbr_http_request *req);

    /* --- connections ------------------------------------------------- */

    /** 1 if the connection is alive on this worker. */
    int (*conn_alive)(sbr_conn_id conn);
    /** A parameter of the handshake query string (decoded), or NULL. Valid while the connection lives. Engine.IO's own (EIO, transport, t, sid) are not kept. */
    const char *(*conn_query)(sbr_conn_id conn, const char *name);
    /** A header of the handshake HTTP request (case-insensitive), or NULL. Valid while the connection lives. The headers that only negotiate the transport (Connection, Upgrade, Sec-WebSocket-Key/-Version/-Extensions, Content-Length, Transfer-Encoding) are not kept. */
    const char *(*conn_header)(sbr_conn_id conn, const char *name);
    /** The peer address as text ("127.0.0.1"), or NULL. */
    const char *(*conn_remote_addr)(sbr_conn_id conn);
    /**
     * Set who the connection is (deep copy).  Replacing an identity keeps
     * its user (another user_id: SBR_ERR_INVALID) and raises
     * SBR_EVENT_IDENTITY, from inside this call, with the differences;
     * refused (SBR_ERR_STATE) from that event's own hooks for the same
     * connection.
     */
    int (*conn_set_identity)(sbr_conn_id conn, const sbr_identity *identity);
    /** Who the connection is, or NULL before an identity was set. */
    const sbr_identity *(*conn_identity)(sbr_conn_id conn);
    /** Close the connection with a Socket.IO DISCONNECT; `reason` is logged and given to disconnect hooks. Safe inside hooks: the close happens after the hook returns. */
    int (*conn_disconnect)(sbr_conn_id conn, const char *reason);
    /** Resume a connect chain a hook left SBR_PENDING: SBR_PASS or SBR_REFUSE with reason. */
    int (*connect_resume)(sbr_conn_id conn, enum sbr_verdict verdict, const char *reason);

    /* --- messages ---------------------------------------------------- */

    /** Answer a client event's ack with one JSON value (copied) and end the message. Without a requested ack this only ends it. */
    int (*message_reply)(sbr_message *msg, const char *data_json);
    /** Resume a message chain a hook left SBR_PENDING: SBR_PASS or SBR_REFUSE with reason. */
    int (*message_resume)(sbr_message *msg, enum sbr_verdict verdict, const char *reason);

    /* --- namespaces ---------------------------------------------------- */

    /**
     * Accept Socket.IO connections on another namespace than "/" (e.g.
     * "/custom"); only from on_load.  Each namespace a client joins is its
     * own sbr_conn_id; hooks see it in sbr_event_connect.nsp and
     * api->conn_namespace.  Unknown namespaces get CONNECT_ERROR
     * {"message": "Invalid namespace"}.  When the plugin unloads, its
     * namespaces accept no new connection.
     */
    int (*namespace_add)(sbr_plugin *self, const char *nsp);
    /** The namespace of a connection ("/" for the main one), or NULL. */
    const char *(*conn_namespace)(sbr_conn_id conn);

    /* --- rooms and emit --------------------------------------------- */

    /** Put the connection in a room (any non-empty name of up to 255 bytes). */
    int (*room_join)(sbr_conn_id conn, const char *room);
    int (*room_leave)(sbr_conn_id conn, const char *room);
    /** 1 if the connection is in the room. */
    int (*room_contains)(sbr_conn_id conn, const char *room);
    /** Call fn for each local member of a room; fn may not change that room. Returns the count. */
    size_t (*room_foreach)(const char *room, void (*fn)(sbr_conn_id conn, void *userdata), void *userdata);
    /** Emit an event with one JSON argument (NULL: no argument) to one connection. */
    int (*emit)(sbr_conn_id conn, const char *event, const char *data_json, unsigned flags);
    /**
     * Emit an event to every member of a room on every worker, except
     * `except` (0: none).  Encoded once; the same bytes go to every socket.
     */
    int (*emit_room)(const char *room, const char *event, const char *data_json, sbr_conn_id except, unsigned flags);

    /* --- state and bus ---------------------------------------------- */

    /** Current enum sbr_bus_state. */
    int (*bus_state)(void);
    /**
     * Publish to a topic on every worker (this one included, after the call
     * returns).  Topics starting with "room:" are the core's (room fan-out)
     * and refused with SBR_ERR_INVALID: use emit_room.
     */
    int (*bus_publish)(const char *topic, const char *data, size_t len);
    /** Receive a topic's messages; only from on_load.  "room:" topics are refused (SBR_ERR_INVALID). */
    int (*bus_subscribe)(sbr_plugin *self, const char *topic, sbr_bus_message_fn fn, void *userdata);
    /** Set key to value, expiring after ttl_ms (0: never). Reply: status. */
    int (*kv_set)(const char *key, const char *value, size_t len, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    /** Reply: found, value, value_len. */
    int (*kv_get)(const char *key, sbr_state_done_fn done, void *userdata);
    /** Reply: changed. */
    int (*kv_del)(const char *key, sbr_state_done_fn done, void *userdata);
    /** Atomically take key for ttl_ms unless held. Reply: acquired, or remaining_ms of the holder. */
    int (*reserve)(const char *key, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    /**
     * A map whose fields each expire on their own: set field to value for
     * ttl_ms (refreshing it).  Reply: count (live fields after), changed
     * (the field was not live before).  Atomic across workers.
     */
    int (*map_set)(const char *key, const char *field, const char *value, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    /** Reply: count (live fields after), changed (the field was live). */
    int (*map_del)(const char *key, const char *field, sbr_state_done_fn done, void *userdata);
    /** Reply: n, fields, values of the live fields, in O(live fields). */
    int (*map_get_all)(const char *key, sbr_state_done_fn done, void *userdata);
    /** Reply: count. */
    int (*map_count)(const char *key, sbr_state_done_fn done, void *userdata);

    /* --- for bus plugins only ---------------------------------------- */

    /** Become the state-and-bus provider; only from on_load, one provider per process. */
    int (*bus_provide)(sbr_plugin *self, const sbr_bus_provider *provider, void *ctx);
    /** Hand the core a message that arrived from another worker. */
    void (*bus_deliver)(const char *topic, const char *data, size_t len);
    /** Report a backend state change (logged once per change; shown in /healthz). */
    void (*bus_set_state)(enum sbr_bus_state state, const char *detail);
    /** The core's event loop (a struct event_base *), for plugins that drive sockets with libevent. */
    void *(*event_base)(void);

    /* --- metrics ------------------------------------------------------ */

    /**
     * Add to a counter shown on /metrics.  `name` is a Prometheus metric
     * name (e.g. "superbot_auth_tokens_issued_total"); `labels` is NULL or
     * the text between the braces (e.g. "reason=\"expired\"").  The first
     * use of a name/labels pair creates it, owned by `self`: the series
     * disappears from /metrics when that plugin unloads.
     */
    int (*metric_add)(sbr_plugin *self, const char *name, const char *labels, double delta);
    /** Set a gauge shown on /metrics; same naming as metric_add. */
    int (*metric_set)(sbr_plugin *self, const char *name, const char *labels, double value);

    void *reserved[16];

    /* --- appended: check with SBR_API_HAS before use ------------------- */

    /**
     * Answer a client event's ack with several values: `args_json` is a JSON
     * array whose elements become the ack's arguments (copied), and end the
     * message.  Binary attachments the client sent with the event may be
     * referred to as {"_placeholder": true, "num": N}; they are sent back
     * with the answer.  Without a requested ack this only ends the message.
     */
    int (*message_reply_args)(sbr_message *msg, const char *args_json);
    /**
     * Emit an event to the message's connection with the elements of
     * `args_json` (a JSON array) as its arguments; placeholders refer to the
     * message's binary attachments as in message_reply_args.  The message
     * stays open.  Dropped silently if the connection is gone.
     */
    int (*message_emit_args)(sbr_message *msg, const char *event, const char *args_json);
    /**
     * Emit an event with one JSON argument (NULL: none) to one connection
     * and ask the client to acknowledge it.  fn is called exactly once, from
     * the event loop: with the client's ack arguments as a JSON array, or
     * with args_json NULL when timeout_ms passed (0: wait as long as the
     * connection lives) or the connection went away first.  args_json lives
     * during the call.  When this returns an error, fn is never called.
     */
    int (*emit_with_ack)(sbr_conn_id conn, const char *event, const char *data_json, uint64_t timeout_ms,
                         void (*fn)(sbr_conn_id conn, const char *args_json, void *userdata), void *userdata);
    /**
     * End the connection for a reason its client should show rather than
     * retry blindly (a revoked session, an expired token, a flood): the
     * client gets the event `disconnect_reason` {"reason": code}, then a
     * Socket.IO DISCONNECT, after which the stock client does not reconnect
     * by itself.  `code` is 1..64 characters of [a-z0-9_.-] ("revoked",
     * "token_expired", "rate_limited", "removed", or a plugin's own);
     * disconnect hooks get it as their reason.  A connection whose CONNECT
     * is still pending gets CONNECT_ERROR {"message": code} instead.  Safe
     * inside hooks: the close happens after the hook returns.  For an
     * ending the client may retry at once, use conn_disconnect.
     */
    int (*conn_end)(sbr_conn_id conn, const char *code);
    /**
     * As set_error, naming the declared config key the error is about: the
     * core reports it at that key's line, "file:line: plugin 'x': key 'url':
     * reason", instead of at the file's `plugin =` line (which stays the
     * place when the key is not set in the file, or not declared).  `key` and
     * the message are copied.  From on_load and on_check (it is in the table
     * handed to on_check).  SBR_SET_ERROR_KEY falls back to set_error on a
     * core that lacks it.
     */
    void (*set_error_key)(sbr_plugin *self, const char *key, const char *fmt, ...) SBR_PRINTF(3, 4);
    /**
     * Declare a metric the plugin exports: its type and a one-line help
     * text (no backslash), shown as `# HELP` and `# TYPE` on /metrics.
     * Declare every metric in on_load, and create each of its series at 0
     * (metric_add(name, labels, 0), or metric_set for a gauge) so that it is
     * scraped from start-up rather than from its first event;
     * sbr_metrics_declare does both from a table.  Names follow Prometheus:
     * snake_case, the unit as a suffix (`_bytes`, `_seconds`), `_total` for
     * counters.  SBR_ERR_INVALID for a bad name, a name the core exports
     * itself, a bad help text, or a type that differs from the metric's
     * earlier declaration or use.  Strings are copied.  Any time, usually
     * from on_load.
     */
    int (*metric_declare)(sbr_plugin *self, const char *name, enum sbr_metric_type type, const char *help);

    /**
     * Read a string inside a client event's arguments, with no JSON library
     * in the plugin.  `index` picks the argument (0: the first after the
     * event name); `path` names a value inside it: object keys separated by
     * dots, an all-digit segment indexing an array ("content", "author.name",
     * "attachments.0.url"; NULL or "": the argument itself; a key holding a
     * dot cannot be named).  Returns the string's length in bytes (UTF-8,
     * without the terminating NUL; a client's \u0000 arrives as a NUL byte
     * inside it) and copies it, NUL-terminated, into buf when it fits
     * (length < len).  When it does not fit, buf gets "" (if len > 0), never
     * a truncated string, and the length says how much to allocate, as with
     * snprintf (buf may be NULL with len 0).  SBR_ERR_INVALID when the value
     * is missing or not a string, SBR_ERR_GONE once the message is answered.
     * Call it between the message hook and the message's answer.  The
     * arguments are parsed once per message; a lookup costs the path's
     * length plus the copy.
     */
    int (*msg_arg_string)(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len);
    /** As msg_arg_string, for a number (integers exact up to 2^53): SBR_OK and *out. */
    int (*msg_arg_number)(sbr_message *msg, unsigned index, const char *path, double *out);
    /** As msg_arg_string, for true or false: SBR_OK and *out set to 1 or 0. */
    int (*msg_arg_bool)(sbr_message *msg, unsigned index, const char *path, int *out);
    /**
     * As msg_arg_string, for any value (an object, an array, a number, ...):
     * its compact JSON text, copied when it fits, its length returned.
     */
    int (*msg_arg_json)(sbr_message *msg, unsigned index, const char *path, char *buf, size_t len);
    /**
     * Quote `text` (UTF-8, NUL-terminated) as a JSON string, quotes
     * included, escaping quotes, backslashes and control characters, for
     * the JSON a plugin hands to emit, message_reply or http_reply.  Returns
     * the quoted length and copies it when it fits, as msg_arg_string does;
     * SBR_ERR_INVALID when text is NULL or not UTF-8.  Any time.
     */
    int (*json_quote)(const char *text, char *buf, size_t len);
    /**
     * Add `delta` to the integer counter at `key`, atomically across every
     * worker sharing the bus, and answer its new value (reply: count).  An
     * absent key starts at 0; when the key has no expiry and ttl_ms > 0 it
     * gets one, ttl_ms from now, so the first incr of a window sets it and
     * the later ones keep it: "at most 5 per minute" is incr(key, 1, 60000)
     * and a refusal above 5.  ttl_ms 0: no expiry.  Counters share the key
     * space of kv_set/kv_get/kv_del (kv_get reads the decimal text, kv_del
     * resets it); a key holding something else than an integer, or an
     * overflow, answers status SBR_ERR_INVALID.  SBR_ERR_UNAVAILABLE (and
     * `done` never called) when the bus provider has no counters.  As the
     * other state services: from any hook or callback, `done` (may be NULL)
     * called exactly once, later, from the event loop.
     */
    int (*incr)(const char *key, int64_t delta, uint64_t ttl_ms, sbr_state_done_fn done, void *userdata);
    /**
     * Handle the client event named `event` (42["event", ...]): fn is called
     * with SBR_EVENT_MESSAGE and its sbr_event_message, and answers with the
     * verdicts of a message hook (usually SBR_CONSUME after
     * api->message_reply, or SBR_PENDING).  Only from on_load.  One plugin
     * per name: a second claim returns SBR_ERR_STATE and stops start-up
     * with "file:line: plugin 'x': event 'e' is already handled by plugin
     * 'y'", whatever on_load then returns.  For event E the core runs the
     * generic SBR_EVENT_MESSAGE hooks and E's filters (message_filter),
     * merged in conf.d order, then E's handler; with no handler and nobody
     * consuming, the ack is {"ok": false, "error": "unknown_event"}.  A
     * plugin that neither handles nor filters E is not called for it.
     * `event` is copied.
     */
    int (*message_handler)(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *userdata);
    /**
     * Look at the client event named `event` before its handler, with the
     * same callback, event struct and verdicts as a message hook (SBR_PASS
     * lets it go on, SBR_REFUSE answers the ack with the reason and stops
     * it).  Only from on_load; any number of plugins may filter one name,
     * and they run in conf.d order among the generic SBR_EVENT_MESSAGE
     * hooks.  `event` is copied.
     */
    int (*message_filter)(sbr_plugin *self, const char *event, sbr_hook_fn fn, void *userdata);
    /**
     * This worker's identity: 11 URL-safe characters drawn at start-up,
     * unique among live workers, the same for every plugin and the prefix
     * of its Engine.IO session ids.  Use it to name this worker in shared
     * state (a field, a key, a message's origin).  Owned by the core, valid
     * for the life of the process; may be called at any time, on_check
     * excepted.
     */
    const char *(*worker_id)(void);
    /**
     * For the bus provider: what /healthz says of its backend beyond its
     * state.  `json_object` is the text of a JSON object whose members are
     * added to /healthz's top level, except the members the core writes
     * itself ("status", "bus", "redis", "connections", "plugins"), which
     * stay the core's.  bus-redis says which form of Redis it uses and the
     * state of each link: {"bus_mode": "cluster", "bus_nodes": [...]}.  The
     * text is copied; NULL clears it.  SBR_ERR_INVALID for text that is not
     * a JSON object, SBR_ERR_STATE when `self` is not the bus provider (see
     * bus_provide).  Any time after bus_provide; the last call wins; what
     * was set goes when the provider unloads.
     */
    int (*bus_set_health)(sbr_plugin *self, const char *json_object);
    /**
     * For bus plugins that implement room_publish: hand the core a room
     * event with its offset (from any worker, this one's own included), in
     * offset order.  `except` is the socket id the event skips, or "" (NULL
     * is taken as ""), `flags` those given to room_publish.  `data` is the
     * packet given to room_publish, without its offset; it is copied.  Ignored for a topic nobody subscribed to
     * here.  From the event loop; room_publish may call it for this
     * worker's own event before it returns.
     */
    void (*bus_deliver_room)(const char *topic, uint64_t offset, const char *except, unsigned flags, const char *data,
                             size_t len);
} sbr_api;

/** True if the core's services table has the member `field` (appended in a later minor version). */
#define SBR_API_HAS(api, field) \
    ((api)->struct_size >= offsetof(sbr_api, field) + sizeof((api)->field) && (api)->field != NULL)

/**
 * Set the error of a failing on_load or on_check about config key `key`:
 * api->set_error_key where the core has it, else api->set_error (without
 * the key's line).  Usage: SBR_SET_ERROR_KEY(api, self, "url", "bad port %d", port)
 */
#define SBR_SET_ERROR_KEY(api, self, key, ...)                                        \
    (SBR_API_HAS(api, set_error_key) ? (api)->set_error_key((self), (key), __VA_ARGS__) \
                                     : (api)->set_error((self), __VA_ARGS__))

/**
 * One metric for sbr_metrics_declare.  `labels` is NULL for one series
 * without labels, or a NULL-terminated list of label texts (such as
 * "reason=\"expired\""), one series each.
 */
typedef struct sbr_metric_def {
    const char *name;
    enum sbr_metric_type type;
    const char *help;
    const char *const *labels;
} sbr_metric_def;

/**
 * Declare each metric of `defs` (ended by an entry whose name is NULL) with
 * api->metric_declare, when the core has it, and create each of its series
 * at 0, so that /metrics shows them, with their help text and type, from
 * start-up.  Call it from on_load.  Returns SBR_OK or the first error.
 */
static inline int sbr_metric_zero_(const sbr_api *api, sbr_plugin *self, const sbr_metric_def *def, const char *labels)
{
    return def->type == SBR_METRIC_GAUGE ? api->metric_set(self, def->name, labels, 0)
                                         : api->metric_add(self, def->name, labels, 0);
}

static inline int sbr_metrics_declare(const sbr_api *api, sbr_plugin *self, const sbr_metric_def *defs)
{
    for (; defs->name; defs++) {
        int rc = SBR_OK;
        if (SBR_API_HAS(api, metric_declare))
            rc = api->metric_declare(self, defs->name, defs->type, defs->help);
        if (rc == SBR_OK && !defs->labels)
            rc = sbr_metric_zero_(api, self, defs, NULL);
        for (size_t i = 0; rc == SBR_OK && defs->labels && defs->labels[i]; i++)
            rc = sbr_metric_zero_(api, self, defs, defs->labels[i]);
        if (rc != SBR_OK)
            return rc;
    }
    return SBR_OK;
}

/* ------------------------------------------------------------------ */
/* The descriptor                                                      */
/* ------------------------------------------------------------------ */

/**
 * What a plugin is.  on_load registers hooks, routes, subscriptions and
 * timers and returns 0, or non-zero after api->set_error to stop start-up.
 * on_unload runs in reverse conf.d order at shutdown; the core removes
 * everything the plugin registered after it returns.
 *
 * on_check (optional) validates the plugin's configuration without starting
 * anything: `--check-config` calls it, and a SIGHUP reload calls it with the
 * new values before applying them (a refusal keeps the running
 * configuration).  It may use only the log, set_error, set_error_key, config_* and
 * now_ms members of api (the others are NULL there); it returns 0, or non-zero
 * after api->set_error.  Checks that on_load also makes belong here too, so
 * that an operator learns of a bad value before a restart, not at it.
 * (Added in ABI 1 in place of a reserved slot: a plugin built before it
 * has NULL there.)
 */
typedef struct sbr_plugin_descriptor {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
    const char *version;
    const char *description;
    const sbr_config_key *config; /* NULL or terminated by SBR_CONF_END */
    int (*on_load)(sbr_plugin *self, const sbr_api *api);
    void (*on_unload)(sbr_plugin *self);
    int (*on_check)(sbr_plugin *self, const sbr_api *api);
    void *reserved[7];
} sbr_plugin_descriptor;

typedef const sbr_plugin_descriptor *(*sbr_plugin_entry_fn)(void);

/**
 * Define the plugin's descriptor and its exported entry point:
 *
 *     SBR_PLUGIN_DEFINE(.name = "echo", .version = "1.0.0",
 *                       .description = "...", .config = echo_keys,
 *                       .on_load = echo_load, .on_unload = echo_unload)
 */
#define SBR_PLUGIN_DEFINE(...)                                              \
    SBR_EXPORT const sbr_plugin_descriptor *sbr_plugin_entry(void);         \
    SBR_EXPORT const sbr_plugin_descriptor *sbr_plugin_entry(void)          \
    {                                                                       \
        static const sbr_plugin_descriptor descriptor = {                   \
            .abi_version = SBR_ABI_VERSION,                                 \
            .struct_size = sizeof(sbr_plugin_descriptor),                   \
            __VA_ARGS__};                                                   \
        return &descriptor;                                                 \
    }

#ifdef __cplusplus
}
#endif

#endif /* SUPERBOT_REALTIME_PLUGIN_H */
