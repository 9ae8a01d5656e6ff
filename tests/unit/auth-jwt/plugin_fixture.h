/* What the tests of the auth-jwt plugin through the fake host share:
 * loading it on a fixed clock, minting tokens, issuing them through the
 * route, reading their claims, connecting with them. */
#ifndef SBR_TEST_AUTH_JWT_PLUGIN_FIXTURE_H
#define SBR_TEST_AUTH_JWT_PLUGIN_FIXTURE_H

#include <superbot-realtime/plugin.h>
#include <jansson.h>

#include "fake_host.h"

#define TOKEN_ROUTE "/api/realtime/token"
#define API_KEY_BEARER "Bearer " FAKE_API_KEY
#define FAKE_REALTIME_SECRET "fake-realtime-secret-0123456789abcdef"
#define FAKE_SESSION_SECRET "fake-session-secret-0123456789abcdef"
#define FAKE_NOW_S 1700000000

/* Load auth-jwt with these secrets (and extra "key", "value" pairs, NULL
 * ended, or NULL) on a clock fixed at FAKE_NOW_S + 250 ms. */
int auth_load_with(const char *secret, const char *session_secret, const char *const *extra);
/* A token of payload (JSON) signed HS256 with secret; the caller frees. */
char *mint(const char *payload, const char *secret);
/* A realtime token for sub with servers (a JSON array text), iat and a
 * lifetime in seconds, as the gateway signs them; the caller frees. */
char *realtime_token(const char *sub, const char *sid, const char *servers, int64_t iat, int64_t ttl);
/* Issue a token through the route with the API key; the caller frees. */
char *issue(const char *body);
/* The verified claims of a realtime token (a new reference). */
json_t *claims_of(const char *token);
/* Connect with a token and run the queue: the connection, accepted. */
sbr_conn_id connect_with(const char *token);

#endif
