/* Each claim a realtime token can get wrong, signed correctly, on a fixed
 * clock (FIXTURE_NOW, leeway 5 s). */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "token_fixture.h"

#define ISS_AUD "\"iss\":\"superbot\",\"aud\":\"superbot-realtime\","
#define EXP_OK "\"exp\":1700000300"

static const struct {
    const char *name;
    const char *payload;
    enum token_error want;
} cases[] = {
    {"expired", "{" ISS_AUD "\"sub\":\"u1\",\"exp\":1700000095}", TOKEN_ERR_EXPIRED},
    {"expired at the leeway edge", "{" ISS_AUD "\"sub\":\"u1\",\"exp\":1700000095.9}", TOKEN_ERR_EXPIRED},
    {"exp missing", "{" ISS_AUD "\"sub\":\"u1\"}", TOKEN_ERR_CLAIMS},
    {"exp a string", "{" ISS_AUD "\"sub\":\"u1\",\"exp\":\"1700000300\"}", TOKEN_ERR_CLAIMS},
    {"exp absurd", "{" ISS_AUD "\"sub\":\"u1\",\"exp\":9223372036854775807}", TOKEN_ERR_CLAIMS},
    {"exp not finite", "{" ISS_AUD "\"sub\":\"u1\",\"exp\":1e300}", TOKEN_ERR_CLAIMS},
    {"not yet valid", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"nbf\":1700000106}", TOKEN_ERR_NOT_YET_VALID},
    {"nbf a string", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"nbf\":\"0\"}", TOKEN_ERR_CLAIMS},
    {"issued in the future", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"iat\":1700000106}", TOKEN_ERR_ISSUED_IN_FUTURE},
    {"iat a bool", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"iat\":true}", TOKEN_ERR_CLAIMS},
    {"aud wrong", "{\"iss\":\"superbot\",\"aud\":\"other\",\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_AUDIENCE},
    {"aud prefix", "{\"iss\":\"superbot\",\"aud\":\"superbot\",\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_AUDIENCE},
    {"aud missing", "{\"iss\":\"superbot\",\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_AUDIENCE},
    {"aud array without ours", "{\"iss\":\"superbot\",\"aud\":[\"a\",\"b\"],\"sub\":\"u1\"," EXP_OK "}",
     TOKEN_ERR_AUDIENCE},
    {"aud empty array", "{\"iss\":\"superbot\",\"aud\":[],\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_AUDIENCE},
    {"aud array with a number", "{\"iss\":\"superbot\",\"aud\":[\"superbot-realtime\",1],\"sub\":\"u1\"," EXP_OK "}",
     TOKEN_ERR_AUDIENCE},
    {"aud an object", "{\"iss\":\"superbot\",\"aud\":{\"superbot-realtime\":1},\"sub\":\"u1\"," EXP_OK "}",
     TOKEN_ERR_AUDIENCE},
    {"iss wrong", "{\"iss\":\"evil\",\"aud\":\"superbot-realtime\",\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_ISSUER},
    {"iss missing", "{\"aud\":\"superbot-realtime\",\"sub\":\"u1\"," EXP_OK "}", TOKEN_ERR_ISSUER},
    {"iss an array", "{\"iss\":[\"superbot\"],\"aud\":\"superbot-realtime\",\"sub\":\"u1\"," EXP_OK "}",
     TOKEN_ERR_ISSUER},
    {"sub missing", "{" ISS_AUD EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"sub empty", "{" ISS_AUD "\"sub\":\"\"," EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"sub a number", "{" ISS_AUD "\"sub\":1," EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"sub null", "{" ISS_AUD "\"sub\":null," EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"sub with a newline", "{" ISS_AUD "\"sub\":\"u1\\nx\"," EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"sub too long", "{" ISS_AUD "\"sub\":\"" /* 201 bytes */
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "x\"," EXP_OK "}", TOKEN_ERR_SUBJECT},
    {"servers a string", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"servers\":\"s1\"}", TOKEN_ERR_CLAIMS},
    {"servers with a number", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"servers\":[\"s1\",2]}", TOKEN_ERR_CLAIMS},
    {"servers with an empty id", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"servers\":[\"\"]}", TOKEN_ERR_CLAIMS},
    {"servers null", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"servers\":null}", TOKEN_ERR_CLAIMS},
    {"moderates an object", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"moderates\":{}}", TOKEN_ERR_CLAIMS},
    {"moderates with null", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"moderates\":[null]}", TOKEN_ERR_CLAIMS},
    {"sid empty", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"sid\":\"\"}", TOKEN_ERR_CLAIMS},
    {"sid a number", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"sid\":5}", TOKEN_ERR_CLAIMS},
    {"jti a number", "{" ISS_AUD "\"sub\":\"u1\"," EXP_OK ",\"jti\":5}", TOKEN_ERR_CLAIMS},
};

START_TEST(test_bad_claim)
{
    char *token = fixture_mint(JWT_ALG_HS256, cases[_i].payload, FIXTURE_SECRET);
    enum token_error got = fixture_verify(token);
    ck_assert_msg(got == cases[_i].want, "%s: got %s, want %s", cases[_i].name, token_error_name(got),
                  token_error_name(cases[_i].want));
    free(token);
}
END_TEST

/* Session bearers: exp optional but checked, realtime tokens refused. */
START_TEST(test_session_rules)
{
    struct token_rules rules;
    fixture_session_rules(&rules);
    struct token_claims c;
    char *expired = fixture_mint(JWT_ALG_HS256, "{\"sub\":\"u1\",\"exp\":1700000000}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(expired, strlen(expired), &rules, &c), TOKEN_ERR_EXPIRED);
    char *realtime = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(realtime, strlen(realtime), &rules, &c), TOKEN_ERR_AUDIENCE);
    char *no_sub = fixture_mint(JWT_ALG_HS256, "{\"sid\":\"x\"}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(no_sub, strlen(no_sub), &rules, &c), TOKEN_ERR_SUBJECT);
    char *bool_sub = fixture_mint(JWT_ALG_HS256, "{\"sub\":true}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(bool_sub, strlen(bool_sub), &rules, &c), TOKEN_ERR_SUBJECT);
    /* exp is optional unless required (auth-jwt's session_require_exp). */
    char *no_exp = fixture_mint(JWT_ALG_HS256, "{\"sub\":\"u1\"}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(no_exp, strlen(no_exp), &rules, &c), TOKEN_OK);
    token_claims_free(&c);
    rules.require_exp = 1;
    ck_assert_int_eq(token_verify(no_exp, strlen(no_exp), &rules, &c), TOKEN_ERR_CLAIMS);
    char *with_exp = fixture_mint(JWT_ALG_HS256, "{\"sub\":\"u1\",\"exp\":1700000300}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(token_verify(with_exp, strlen(with_exp), &rules, &c), TOKEN_OK);
    token_claims_free(&c);
    free(expired);
    free(realtime);
    free(no_sub);
    free(bool_sub);
    free(no_exp);
    free(with_exp);
}
END_TEST

static Suite *token_claims_suite(void)
{
    Suite *s = suite_create("token_claims");
    TCase *tc = tcase_create("claims");
    tcase_add_loop_test(tc, test_bad_claim, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_session_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_claims_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
