/* Shared by the auth-jwt token tests: a fixed clock, a secret, rules as
 * the plugin builds them, and tokens minted with libjwt. */
#ifndef TEST_AUTH_JWT_TOKEN_FIXTURE_H
#define TEST_AUTH_JWT_TOKEN_FIXTURE_H

#include <jwt.h>

#include "token.h"

#define FIXTURE_SECRET "unit-test-secret-0123456789abcdef"
#define FIXTURE_OTHER_SECRET "another-secret-0123456789abcdef!!"
/* The fixed clock: 100 s after the fixture tokens' iat. */
#define FIXTURE_NOW 1700000100
#define FIXTURE_IAT 1700000000
#define FIXTURE_EXP 1700000300

/* The claims of a good realtime token, as a JSON object's inside. */
#define FIXTURE_CLAIMS "\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"u1\"," \
                       "\"iat\":1700000000,\"exp\":1700000300,\"jti\":\"j1\",\"servers\":[\"s1\",\"s2\"]"

/* Realtime rules: our secret, audience and issuer, 5 s leeway, 4096 bytes. */
void fixture_rules(struct token_rules *rules);
/* Session rules: lenient, no audience or issuer, realtime audience refused. */
void fixture_session_rules(struct token_rules *rules);

/* Sign payload_json (an object) with alg and secret through libjwt; the
 * caller frees.  Aborts the test on failure. */
char *fixture_mint(jwt_alg_t alg, const char *payload_json, const char *secret);

/* token_verify with fixture_rules on a NUL-terminated token, claims freed. */
enum token_error fixture_verify(const char *token);

#endif
