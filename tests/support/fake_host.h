/* A fake core for the unit tests of plugins: loads built plugin .so files
 * and hands them a services table backed by memory.  It has a settable
 * clock, timers that fire on that clock, rooms and emits, HTTP routes, an
 * in-memory state store and bus whose callbacks run later (when the test
 * runs the queue, as the real core runs them from its loop), and a real
 * libevent loop for plugins that talk to a server (the bus providers).
 * Plugins run in load order, as in conf.d order.  Everything the fake
 * hands out lives until fake_reset. */
#ifndef SBR_TEST_FAKE_HOST_H
#define SBR_TEST_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

/* What api->worker_id returns until fake_set_worker_id (and after fake_reset). */
#define FAKE_WORKER_ID "FakeWorker0"

/* The key api->http_check_api_key accepts, as "Bearer " FAKE_API_KEY. */
#define FAKE_API_KEY "fake-api-key-0123456789"

/* --- plugins ------------------------------------------------------------- */

/* Load build/plugins/<name>.so with {"key", "value", ..., NULL} over its declared defaults; returns on_load's result, or -1. */
int fake_load(const char *name, const char *const *config);
/* Change config values of the loaded plugins that declare them, and deliver SBR_EVENT_RELOAD. */
void fake_reload(const char *const *config);
/* Unload every plugin (reverse order) and forget everything; the clock goes back to its fixed start. */
void fake_reset(void);
/* In a forked child: forget the parent's plugins and loop without touching them (their sockets are shared), and be another worker (api->worker_id). */
void fake_abandon(void);
/* Be another worker (a forked child): api->worker_id returns id. */
void fake_set_worker_id(const char *id);
/* Why the last load failed (set_error or dlopen), or "". */
const char *fake_error(void);
/* The config key the last error named (set_error_key), or "". */
const char *fake_error_key(void);
/* Everything the plugins logged, one line per call (printed too when SBR_TEST_VERBOSE is set). */
const char *fake_log(void);
/* A counter or gauge by name and labels (NULL: none), or -1 if never touched. */
double fake_metric(const char *name, const char *labels);
/* The help text a plugin declared for a metric (metric_declare), or NULL.
 * Updating an undeclared metric, or one of another type, aborts the test. */
const char *fake_metric_help(const char *name);

/* --- time and the loop ---------------------------------------------------- */

/* What api->now_ms returns; fixed at 1750000000000 until moved. */
uint64_t fake_now(void);
/* Stop the clock at ms (e.g. fake_set_clock(fake_now()) freezes a real clock). */
void fake_set_clock(uint64_t ms);
/* Let the clock follow real time, plus whatever fake_advance adds. */
void fake_real_clock(void);
/* Move the clock forward, firing due timers in order, and run the queue. */
void fake_advance(uint64_t ms);
/* Timers started and neither fired (one-shot) nor stopped. */
int fake_active_timers(void);
/* Run queued callbacks (state replies, bus messages, closes) until none is left. */
void fake_run(void);
/* Run the queue, due timers and the event loop until cond(ud) or timeout_ms of real time; returns cond(ud). */
int fake_run_until_fn(int (*cond)(void *ud), void *ud, int timeout_ms);
/* The same until *flag is non-zero; returns *flag. */
int fake_run_until(const volatile int *flag, int timeout_ms);
/* Run the loop for ms of real time. */
void fake_run_for(int ms);

/* --- connections, rooms, emits, messages -------------------------------- */

/* A connection already authenticated as user_id (in rooms user:<id> and server:<s>, as auth-jwt puts it), through the connect chain and the queue; its id, or 0 if refused. */
sbr_conn_id fake_connect(const char *user_id, const char *const *servers, const char *const *moderates);
/* A connection with a query token, an Authorization header and a CONNECT payload (each may be NULL) through the connect hooks, without running the queue; *verdict and *reason are the chain's first answer. */
sbr_conn_id fake_open(const char *query_token, const char *authorization, const char *auth_json, int *verdict,
                      const char **reason);
/* As fake_open with a query token, for a connection whose identity (user
 * and servers, NULL-terminated) and rooms were restored before its connect
 * chain runs, as a connection state recovery would. */
sbr_conn_id fake_open_restored(const char *query_token, const char *user_id, const char *const *servers, int *verdict,
                               const char **reason);
/* A CONNECT with the query's token that asks for a recovery: the chain
 * sees `offer` (sbr_event_connect.recovery; hooks may clear its keep flags)
 * and SBR_EVENT_CONNECTED says recovered as given, with recovery_asked.
 * With user_id, the identity is set first (servers NULL-terminated), as an
 * authenticating plugin ahead in the chain would. */
sbr_conn_id fake_open_recovering(const char *query_token, const char *user_id, const char *const *servers,
                                 const sbr_recovery *offer, int recovered, int *verdict, const char **reason);
/* Put the connection in a room as the core does (api->room_join). */
int fake_room_join(sbr_conn_id conn, const char *room);
/* The verdict a plugin gave with connect_resume (-1 before), and its reason. */
int fake_resumed(sbr_conn_id conn, const char **reason);
/* Who the connection is (api->conn_identity). */
const sbr_identity *fake_identity(sbr_conn_id conn);
/* The connection is lost (its transport closed: sbr_event_disconnect.lost), then fake_run. */
void fake_lose(sbr_conn_id conn);
/* Replace the connection's servers and moderates (NULL-terminated lists,
 * NULL: none) as an authenticating plugin would, raising
 * SBR_EVENT_IDENTITY, then run the queue; the status of conn_set_identity. */
int fake_change_identity(sbr_conn_id conn, const char *const *servers, const char *const *moderates);
/* The client goes away: rooms left, disconnect hooks run, then the queue. */
void fake_disconnect(sbr_conn_id conn);
/* The same without running the queue: what the plugins asked of the bus is
 * still in flight (a worker stopping right after a client left). */
void fake_close(sbr_conn_id conn);
/* The reason a plugin gave conn_disconnect for conn, or NULL. */
const char *fake_disconnected(sbr_conn_id conn);
/* 1 if the connection is in the room. */
int fake_in_room(sbr_conn_id conn, const char *room);
/* Send a client event with its arguments (a JSON array) and run the queue; the ack as JSON text, or NULL if never answered. */
const char *fake_send(sbr_conn_id conn, const char *event, const char *args_json);
/* How many times conn received event. */
size_t fake_received(sbr_conn_id conn, const char *event);
/* The data of the last event conn received ("" without data), or NULL. */
const char *fake_last(sbr_conn_id conn, const char *event);
/* Forget the emits received so far. */
void fake_clear_received(void);

/* --- HTTP ------------------------------------------------------------------ */

/* Call the route matching method and path with an Authorization header and a body (each may be NULL), without running the queue. */
sbr_http_request *fake_request(const char *method, const char *path, const char *authorization, const char *body);
/* The status the handler answered req with (0: not yet, or no route). */
int fake_reply_status(const sbr_http_request *req);
/* The answer's body and extra headers, or NULL. */
const char *fake_reply_body(const sbr_http_request *req);
const char *fake_reply_headers(const sbr_http_request *req);
/* fake_request (with_key: with the api key), then the queue; returns the status and points *body and *headers (may be NULL) at the answer. */
int fake_http(const char *method, const char *path, const char *body, int with_key, const char **reply_body,
              const char **reply_headers);

/* --- state and bus ------------------------------------------------------- */

/* The live fields of a map. */
size_t fake_map_count(const char *key);
/* The i-th live field of a map (in no particular order), or NULL. */
const char *fake_map_field(const char *key, size_t i);
/* A live field's value, or NULL. */
const char *fake_map_value(const char *key, const char *field);
/* A live key's value, or NULL. */
const char *fake_kv_value(const char *key);
/* The ttl a key was last set with (0: absent or no expiry). */
uint64_t fake_kv_ttl(const char *key);
/* Write a key as another worker would. */
void fake_kv_put(const char *key, const char *value);
/* Write a map field as another worker would (ttl_ms 0: no expiry). */
void fake_map_put(const char *key, const char *field, const char *value, uint64_t ttl_ms);
/* A message on a topic from another worker: this worker's subscribers get it now. */
void fake_deliver(const char *topic, const char *data);
/* While set, state operations change nothing and answer SBR_ERR_UNAVAILABLE. */
void fake_bus_fail(int fail);
/* Report a new bus state to the plugins; lose_state first empties the store (an outage, or a backend restarted empty). */
void fake_bus_change(enum sbr_bus_state state, int lose_state);
/* The last reported bus state (-1 before any), its detail, and how many reports came. */
int fake_bus_state(void);
const char *fake_bus_detail(void);
/* What the provider said last with api->bus_set_health ("" if nothing). */
const char *fake_bus_health(void);
int fake_bus_reports(void);
/* What a bus plugin registered with bus_provide (NULL: none), and its context. */
const sbr_bus_provider *fake_provider(void);
void *fake_provider_ctx(void);
/* Messages the plugin handed to bus_deliver: how many, and the i-th topic and data. */
size_t fake_delivered(void);
const char *fake_delivered_topic(size_t i);
const char *fake_delivered_data(size_t i, size_t *len);
/* Room events the plugin handed to bus_deliver_room: how many, and the
 * i-th's packet (NULL past the end) with its offset, except, flags, topic. */
size_t fake_room_delivered(void);
const char *fake_room_delivery(size_t i, uint64_t *offset, const char **except, unsigned *flags, const char **topic);

/* --- JSON -------------------------------------------------------------------- */

/* A member of the JSON object `text`: strings bare, other values as compact JSON; NULL if absent. */
const char *fake_get(const char *text, const char *member);

#endif
