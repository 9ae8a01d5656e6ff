/* A fake host for the auth-jwt plugin: loads the built .so and hands it a
 * services table that records what the plugin does (routes, hooks, rooms,
 * emits, metrics) over an in-memory key-value store whose callbacks run
 * only when the test flushes them, as a real bus answers later. */
#ifndef TEST_AUTH_JWT_FAKE_HOST_H
#define TEST_AUTH_JWT_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <superbot-realtime/plugin.h>

#define FAKE_API_KEY "fake-api-key-0123456789"
#define FAKE_REALTIME_SECRET "fake-realtime-secret-0123456789abcdef"
#define FAKE_SESSION_SECRET "fake-session-secret-0123456789abcdef"
#define FAKE_NOW_S 1700000000

struct sbr_http_request {
    const char *authorization;
    const char *body;
    const char *sid;
    int status; /* 0 until answered */
    char *reply;
};

/* Load the plugin with conf values (NULL: the defaults of the test
 * config); returns on_load's result.  The last set_error is in fake_error. */
int fake_load(const char *secret, const char *session_secret);
void fake_unload(void);
extern char fake_error[512];

/* Call the route registered for method and pattern (asserts it exists). */
void fake_http(const char *method, const char *pattern, struct sbr_http_request *req);

/* A new connection with a query token, an Authorization header and an auth
 * payload (each may be NULL); runs the connect hooks and returns the
 * verdict (SBR_PENDING until fake_flush runs the bus callbacks). */
sbr_conn_id fake_connect(const char *query_token, const char *authorization, const char *auth_json, int *verdict,
                         const char **reason);
/* The verdict connect_resume gave (-1 before), and its reason. */
int fake_resumed(sbr_conn_id conn, const char **reason);
/* Run the connected hooks; returns the `ready` payload emitted (or NULL). */
const char *fake_connected(sbr_conn_id conn);
int fake_in_room(sbr_conn_id conn, const char *room);
const char *fake_disconnected(sbr_conn_id conn); /* the reason, or NULL */
const sbr_identity *fake_identity(sbr_conn_id conn);

/* Change the secret (NULL: keep) and deliver SBR_EVENT_RELOAD. */
void fake_reload(const char *secret);

/* Run queued bus callbacks and published messages until none is left. */
void fake_flush(void);
/* Make the next state operations answer SBR_ERR_UNAVAILABLE. */
void fake_bus_fail(int fail);
/* Current value of a counter. */
double fake_metric(const char *name, const char *labels);
/* The ttl of a stored key, or 0 when absent. */
uint64_t fake_kv_ttl(const char *key);

#endif
