/* Tokens that must pass, and what they prove. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "token_fixture.h"

/* Minted by another implementation (node:crypto), header keys in another order. */
static const char *node_token =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJzdXBlcmJvdCIsImF1ZCI6InN1cGVyYm90LXJlYWx0aW1lIiwic3ViIjoidTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MT"
    "cwMDAwMDMwMCwic2VydmVycyI6WyJzMSJdfQ.y47hEq0Jcyu_LPjZMBfB_I7gjM31hTKe97jT4CWLJTo";

static enum token_error verify_payload(const char *payload)
{
    char *token = fixture_mint(JWT_ALG_HS256, payload, FIXTURE_SECRET);
    enum token_error err = fixture_verify(token);
    free(token);
    return err;
}

START_TEST(test_good_claims)
{
    char *token = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS ",\"sid\":\"sess1\",\"moderates\":[\"s2\"]}",
                               FIXTURE_SECRET);
    struct token_rules rules;
    fixture_rules(&rules);
    struct token_claims c;
    ck_assert_int_eq(token_verify(token, strlen(token), &rules, &c), TOKEN_OK);
    ck_assert_str_eq(c.sub, "u1");
    ck_assert_str_eq(c.sid, "sess1");
    ck_assert_str_eq(c.jti, "j1");
    ck_assert_uint_eq(c.n_servers, 2);
    ck_assert_str_eq(c.servers[0], "s1");
    ck_assert_str_eq(c.servers[1], "s2");
    ck_assert_int_eq(c.has_moderates, 1);
    ck_assert_uint_eq(c.n_moderates, 1);
    ck_assert_str_eq(c.moderates[0], "s2");
    ck_assert_int_eq(c.iat, FIXTURE_IAT);
    ck_assert_int_eq(c.exp, FIXTURE_EXP);
    token_claims_free(&c);
    free(token);
}
END_TEST

START_TEST(test_minimal_claims)
{
    struct token_rules rules;
    fixture_rules(&rules);
    struct token_claims c;
    char *token = fixture_mint(JWT_ALG_HS256,
                               "{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"u9\",\"exp\":1700000300}",
                               FIXTURE_SECRET);
    ck_assert_int_eq(token_verify(token, strlen(token), &rules, &c), TOKEN_OK);
    ck_assert_ptr_null(c.sid);
    ck_assert_ptr_null(c.jti);
    ck_assert_uint_eq(c.n_servers, 0);
    ck_assert_int_eq(c.has_moderates, 0);
    token_claims_free(&c);
    free(token);
}
END_TEST

START_TEST(test_other_implementation)
{
    ck_assert_int_eq(fixture_verify(node_token), TOKEN_OK);
}
END_TEST

START_TEST(test_audience_array_with_ours)
{
    ck_assert_int_eq(verify_payload("{\"iss\":\"superbot\",\"aud\":[\"other\",\"superbot-realtime\"],\"sub\":\"u1\","
                                    "\"exp\":1700000300}"),
                     TOKEN_OK);
}
END_TEST

START_TEST(test_within_leeway)
{
    /* exp 3 s ago, nbf and iat 4 s ahead: all inside the 5 s leeway. */
    ck_assert_int_eq(verify_payload("{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"u1\","
                                    "\"exp\":1700000097,\"nbf\":1700000104,\"iat\":1700000104}"),
                     TOKEN_OK);
}
END_TEST

START_TEST(test_fractional_dates)
{
    ck_assert_int_eq(verify_payload("{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"u1\","
                                    "\"exp\":1700000300.5,\"iat\":1700000000.25,\"nbf\":1700000000.75}"),
                     TOKEN_OK);
}
END_TEST

START_TEST(test_session_token_lenient)
{
    char *token = fixture_mint(JWT_ALG_HS256, "{\"sub\":42,\"sid\":7,\"servers\":[1,\"s2\"]}", FIXTURE_OTHER_SECRET);
    struct token_rules rules;
    fixture_session_rules(&rules);
    struct token_claims c;
    ck_assert_int_eq(token_verify(token, strlen(token), &rules, &c), TOKEN_OK);
    ck_assert_str_eq(c.sub, "42");
    ck_assert_str_eq(c.sid, "7");
    ck_assert_uint_eq(c.n_servers, 2);
    ck_assert_str_eq(c.servers[0], "1");
    ck_assert_str_eq(c.servers[1], "s2");
    token_claims_free(&c);
    free(token);
}
END_TEST

static Suite *token_good_suite(void)
{
    Suite *s = suite_create("token_good");
    TCase *tc = tcase_create("good");
    tcase_add_test(tc, test_good_claims);
    tcase_add_test(tc, test_minimal_claims);
    tcase_add_test(tc, test_other_implementation);
    tcase_add_test(tc, test_audience_array_with_ours);
    tcase_add_test(tc, test_within_leeway);
    tcase_add_test(tc, test_fractional_dates);
    tcase_add_test(tc, test_session_token_lenient);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_good_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
