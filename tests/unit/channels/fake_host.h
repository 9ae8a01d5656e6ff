/* A fake core for unit tests of the chat plugins: loads a built plugin .so
 * and hands it a services table backed by in-memory state (TTL keys,
 * reservations, maps with expiring fields, a bus), rooms, a settable clock
 * and manual timers.  State callbacks are queued and run by fake_run, as
 * the real core runs them later from its loop. */
#ifndef SBR_FAKE_HOST_H
#define SBR_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

/* Forget everything (unloads the plugins). */
void fake_reset(void);
/* Load build/plugins/<name>.so with config pairs {"key", "value", ..., NULL}
 * over the declared defaults.  Returns 0, or -1 (the reason is printed). */
int fake_load(const char *name, const char *const *config);

/* Run queued callbacks until none is left. */
void fake_run(void);
/* Move the clock forward, firing due timers in order, and run the queue. */
void fake_advance(uint64_t ms);
uint64_t fake_now(void);

/* Open a connection with an identity (NULL lists end with NULL) and run the
 * connect chain.  Returns its id, or 0 if refused. */
sbr_conn_id fake_connect(const char *user_id, const char *const *servers, const char *const *moderates);
void fake_disconnect(sbr_conn_id conn);
/* Report a new bus state to the plugins; lose_state first empties the store
 * (an outage served in-process, or a backend that restarted empty). */
void fake_bus_change(enum sbr_bus_state state, int lose_state);
int fake_in_room(sbr_conn_id conn, const char *room);

/* Send a client event with its arguments (a JSON array) and run the queue;
 * returns the ack as JSON text (owned by the fake until fake_reset), or
 * NULL if it was never answered. */
const char *fake_send(sbr_conn_id conn, const char *event, const char *args_json);

/* How many times conn received event, and the data of the last one. */
size_t fake_received(sbr_conn_id conn, const char *event);
const char *fake_last(sbr_conn_id conn, const char *event);
void fake_clear_received(void);

/* Call a route; with_key adds the api key.  Returns the status (0: not
 * answered); *body and *headers (may be NULL) point into the fake. */
int fake_http(const char *method, const char *path, const char *body, int with_key, const char **reply_body,
              const char **reply_headers);

/* The live fields of a map, or the value of a key (NULL if absent). */
size_t fake_map_count(const char *key);
const char *fake_map_value(const char *key, const char *field);
const char *fake_kv_value(const char *key);
/* Write a key as another worker would. */
void fake_kv_put(const char *key, const char *value);

/* A member of the JSON object `text`: strings bare, other values as compact
 * JSON; NULL if absent.  Owned by the fake until fake_reset. */
const char *fake_get(const char *text, const char *member);

#endif
