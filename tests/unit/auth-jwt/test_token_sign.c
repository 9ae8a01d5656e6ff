/* Issued tokens carry exactly the claims of the contract and verify. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "base64url.h"
#include "token_fixture.h"

static json_t *payload_of(const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strchr(dot1 + 1, '.');
    size_t n;
    unsigned char *raw = base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
    ck_assert_ptr_nonnull(raw);
    json_t *obj = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    ck_assert_ptr_nonnull(obj);
    return obj;
}

static struct token_issue issue_fixture(void)
{
    static const char *servers[] = {"s1", "s2"};
    struct token_issue issue = {
        .issuer = "superbot",
        .audience = "superbot-realtime",
        .sub = "u1",
        .servers = servers,
        .n_servers = 2,
        .iat = FIXTURE_IAT,
        .ttl = 300,
    };
    return issue;
}

START_TEST(test_claims_exact)
{
    struct token_issue issue = issue_fixture();
    char *token = token_sign(&issue, FIXTURE_SECRET, strlen(FIXTURE_SECRET));
    ck_assert_ptr_nonnull(token);
    json_t *p = payload_of(token);
    ck_assert_str_eq(json_string_value(json_object_get(p, "iss")), "superbot");
    ck_assert_str_eq(json_string_value(json_object_get(p, "aud")), "superbot-realtime");
    ck_assert_str_eq(json_string_value(json_object_get(p, "sub")), "u1");
    ck_assert_int_eq(json_integer_value(json_object_get(p, "iat")), FIXTURE_IAT);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "exp")), FIXTURE_IAT + 300);
    ck_assert_uint_eq(json_string_length(json_object_get(p, "jti")), 32);
    ck_assert_uint_eq(json_array_size(json_object_get(p, "servers")), 2);
    ck_assert_ptr_null(json_object_get(p, "sid"));
    ck_assert_ptr_null(json_object_get(p, "moderates"));
    ck_assert_uint_eq(json_object_size(p), 7);
    json_decref(p);
    ck_assert_int_eq(fixture_verify(token), TOKEN_OK);
    free(token);
}
END_TEST

START_TEST(test_sid_and_moderates)
{
    static const char *moderates[] = {"s2"};
    struct token_issue issue = issue_fixture();
    issue.sid = "sess1";
    issue.moderates = moderates;
    issue.n_moderates = 1;
    issue.has_moderates = 1;
    issue.n_servers = 0;
    char *token = token_sign(&issue, FIXTURE_SECRET, strlen(FIXTURE_SECRET));
    json_t *p = payload_of(token);
    ck_assert_str_eq(json_string_value(json_object_get(p, "sid")), "sess1");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(p, "moderates"), 0)), "s2");
    /* servers is always there, even empty. */
    ck_assert(json_is_array(json_object_get(p, "servers")));
    ck_assert_uint_eq(json_array_size(json_object_get(p, "servers")), 0);
    json_decref(p);
    free(token);
}
END_TEST

START_TEST(test_jti_unique)
{
    struct token_issue issue = issue_fixture();
    char *a = token_sign(&issue, FIXTURE_SECRET, strlen(FIXTURE_SECRET));
    char *b = token_sign(&issue, FIXTURE_SECRET, strlen(FIXTURE_SECRET));
    json_t *pa = payload_of(a), *pb = payload_of(b);
    ck_assert_str_ne(json_string_value(json_object_get(pa, "jti")), json_string_value(json_object_get(pb, "jti")));
    json_decref(pa);
    json_decref(pb);
    free(a);
    free(b);
    char id[33];
    ck_assert_int_eq(token_random_id(id), 0);
    ck_assert_uint_eq(strspn(id, "0123456789abcdef"), 32);
}
END_TEST

START_TEST(test_header_hs256)
{
    struct token_issue issue = issue_fixture();
    char *token = token_sign(&issue, FIXTURE_SECRET, strlen(FIXTURE_SECRET));
    size_t n;
    unsigned char *raw = base64url_decode(token, (size_t)(strchr(token, '.') - token), &n);
    json_t *h = json_loadb((const char *)raw, n, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(h, "alg")), "HS256");
    json_decref(h);
    free(raw);
    free(token);
}
END_TEST

START_TEST(test_refuses_empty_secret)
{
    struct token_issue issue = issue_fixture();
    ck_assert_ptr_null(token_sign(&issue, "", 0));
}
END_TEST

static Suite *token_sign_suite(void)
{
    Suite *s = suite_create("token_sign");
    TCase *tc = tcase_create("sign");
    tcase_add_test(tc, test_claims_exact);
    tcase_add_test(tc, test_sid_and_moderates);
    tcase_add_test(tc, test_jti_unique);
    tcase_add_test(tc, test_header_hs256);
    tcase_add_test(tc, test_refuses_empty_secret);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_sign_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
