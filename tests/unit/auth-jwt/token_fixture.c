#include "token_fixture.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

void fixture_rules(struct token_rules *rules)
{
    memset(rules, 0, sizeof(*rules));
    rules->secret = FIXTURE_SECRET;
    rules->secret_len = strlen(FIXTURE_SECRET);
    rules->audience = "superbot-realtime";
    rules->issuer = "superbot";
    rules->now = FIXTURE_NOW;
    rules->leeway = 5;
    rules->max_bytes = 4096;
    rules->strict = 1;
}

void fixture_session_rules(struct token_rules *rules)
{
    memset(rules, 0, sizeof(*rules));
    rules->secret = FIXTURE_OTHER_SECRET;
    rules->secret_len = strlen(FIXTURE_OTHER_SECRET);
    rules->now = FIXTURE_NOW;
    rules->leeway = 5;
    rules->max_bytes = 4096;
    rules->refuse_audience = "superbot-realtime";
}

char *fixture_mint(jwt_alg_t alg, const char *payload_json, const char *secret)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, payload_json), 0);
    if (alg == JWT_ALG_NONE)
        ck_assert_int_eq(jwt_set_alg(jwt, alg, NULL, 0), 0);
    else
        ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)secret, (int)strlen(secret)), 0);
    char *token = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(token);
    jwt_free(jwt);
    return token;
}

enum token_error fixture_verify(const char *token)
{
    struct token_rules rules;
    fixture_rules(&rules);
    struct token_claims claims;
    enum token_error err = token_verify(token, strlen(token), &rules, &claims);
    if (err == TOKEN_OK)
        token_claims_free(&claims);
    return err;
}
