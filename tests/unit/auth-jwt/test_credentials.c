/* Reading credentials: base64url segments, Authorization headers, and the
 * server-to-server token request body. */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "base64url.h"
#include "issue_body.h"
#include "token.h"

START_TEST(test_base64url)
{
    size_t n;
    unsigned char *out = base64url_decode("aGk", 3, &n);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq((char *)out, "hi");
    free(out);
    out = base64url_decode("", 0, &n);
    ck_assert_uint_eq(n, 0);
    free(out);
    out = base64url_decode("_-8", 3, &n);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out[0], 0xff);
    ck_assert_uint_eq(out[1], 0xef);
    free(out);
    ck_assert_ptr_null(base64url_decode("aGk=", 4, &n));  /* padding */
    ck_assert_ptr_null(base64url_decode("aGl", 3, &n));   /* non-zero trailing bits */
    ck_assert_ptr_null(base64url_decode("a", 1, &n));     /* impossible length */
    ck_assert_ptr_null(base64url_decode("a+/b", 4, &n));  /* plain base64 */
}
END_TEST

START_TEST(test_bearer)
{
    size_t n = 0;
    const char *p = token_bearer("Bearer abc.def", &n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(strncmp(p, "abc.def", n), 0);
    p = token_bearer("  bearer   tok  ", &n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_null(token_bearer(NULL, &n));
    ck_assert_ptr_null(token_bearer("Basic dXNlcjpwdw==", &n));
    ck_assert_ptr_null(token_bearer("Bearer", &n));
    ck_assert_ptr_null(token_bearer("Bearer   ", &n));
    ck_assert_ptr_null(token_bearer("Bearertok", &n));
    ck_assert_ptr_null(token_bearer("Bearer a b", &n));
}
END_TEST

START_TEST(test_body_good)
{
    const char *body = "{\"user_id\":\"u1\",\"servers\":[\"s1\",7],\"session_id\":\"x\",\"moderates\":[]}";
    struct token_claims c;
    ck_assert_int_eq(issue_body_parse(body, strlen(body), &c), ISSUE_BODY_OK);
    ck_assert_str_eq(c.sub, "u1");
    ck_assert_str_eq(c.sid, "x");
    ck_assert_uint_eq(c.n_servers, 2);
    ck_assert_str_eq(c.servers[1], "7");
    ck_assert_int_eq(c.has_moderates, 1);
    ck_assert_uint_eq(c.n_moderates, 0);
    token_claims_free(&c);
    body = "{\"user_id\":42,\"session_id\":null,\"servers\":null}";
    ck_assert_int_eq(issue_body_parse(body, strlen(body), &c), ISSUE_BODY_OK);
    ck_assert_str_eq(c.sub, "42");
    ck_assert_ptr_null(c.sid);
    ck_assert_int_eq(c.has_moderates, 0);
    token_claims_free(&c);
}
END_TEST

static const struct {
    const char *body;
    enum issue_body_error want;
} bad_bodies[] = {
    {"", ISSUE_BODY_INVALID},
    {"{", ISSUE_BODY_INVALID_JSON},
    {"[]", ISSUE_BODY_INVALID_JSON},
    {"\"u1\"", ISSUE_BODY_INVALID_JSON},
    {"{\"user_id\":\"u1\",\"user_id\":\"u2\"}", ISSUE_BODY_INVALID_JSON},
    {"{}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"\"}", ISSUE_BODY_INVALID},
    {"{\"user_id\":null}", ISSUE_BODY_INVALID},
    {"{\"user_id\":true}", ISSUE_BODY_INVALID},
    {"{\"user_id\":1.5}", ISSUE_BODY_INVALID},
    {"{\"user_id\":{}}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"u1\",\"servers\":\"s1\"}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"u1\",\"servers\":[[\"s1\"]]}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"u1\",\"moderates\":{}}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"u1\",\"session_id\":[]}", ISSUE_BODY_INVALID},
    {"{\"user_id\":\"u1\",\"session_id\":\"\"}", ISSUE_BODY_INVALID},
};

START_TEST(test_body_bad)
{
    struct token_claims c;
    const char *body = bad_bodies[_i].body;
    ck_assert_msg(issue_body_parse(body, strlen(body), &c) == bad_bodies[_i].want, "body %s", body);
}
END_TEST

static Suite *credentials_suite(void)
{
    Suite *s = suite_create("credentials");
    TCase *tc = tcase_create("credentials");
    tcase_add_test(tc, test_base64url);
    tcase_add_test(tc, test_bearer);
    tcase_add_test(tc, test_body_good);
    tcase_add_loop_test(tc, test_body_bad, 0, (int)(sizeof(bad_bodies) / sizeof(bad_bodies[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(credentials_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
