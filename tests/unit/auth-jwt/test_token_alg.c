/* Algorithm downgrade and confusion: only HS256 is ever accepted, whatever
 * the header claims and whoever signed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "token_fixture.h"

/* HMAC-SHA256 with FIXTURE_SECRET over headers libjwt would never write
 * (minted with node:crypto): each signature is valid for its bytes. */
#define PAYLOAD_B64                                                                                            \
    "eyJpc3MiOiJzdXBlcmJvdCIsImF1ZCI6InN1cGVyYm90LXJlYWx0aW1lIiwic3ViIjoidTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MT" \
    "cwMDAwMDMwMCwic2VydmVycyI6WyJzMSJdfQ"
static const struct {
    const char *name;
    const char *token;
} forged[] = {
    {"RS256 header", "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." PAYLOAD_B64 ".mEecWjo_ZFQz1FwCqdbd92BYVHiw4UlAHmYESDdpxKc"},
    {"hs256 lower case", "eyJhbGciOiJoczI1NiIsInR5cCI6IkpXVCJ9." PAYLOAD_B64 ".uW5bkqDcwRwZz_pbbQBmoE-PmTJX3Co7wzzwqxkt1yo"},
    {"crit header", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImNyaXQiOlsiZXhwIl19." PAYLOAD_B64
                    ".lWBcBmrG4JJgJoTZozZ9bODcuQhLGW8ojtQ5uCR2WDo"},
    {"no alg", "eyJ0eXAiOiJKV1QifQ." PAYLOAD_B64 ".sMkpEODLBYwlk9hOetTVakMHnkfxeFn8sd-97k3Vyjo"},
    {"alg a number", "eyJhbGciOjI1Nn0." PAYLOAD_B64 ".40W-rAf9K5Ir7NVrz3NEnVMorn-GzWMKpcMzY4rIadw"},
};

START_TEST(test_forged_header)
{
    ck_assert_msg(fixture_verify(forged[_i].token) == TOKEN_ERR_ALG, "%s accepted or misjudged", forged[_i].name);
}
END_TEST

START_TEST(test_alg_none)
{
    /* libjwt writes "header.payload." for none: no signature at all. */
    char *token = fixture_mint(JWT_ALG_NONE, "{" FIXTURE_CLAIMS "}", NULL);
    ck_assert_int_eq(fixture_verify(token), TOKEN_ERR_MALFORMED);
    /* The same with a signature stuck on still names alg none. */
    size_t len = strlen(token);
    char *signed_none = malloc(len + 8);
    memcpy(signed_none, token, len);
    memcpy(signed_none + len, "AAAAAAA", 8);
    ck_assert_int_eq(fixture_verify(signed_none), TOKEN_ERR_ALG);
    free(signed_none);
    free(token);
}
END_TEST

START_TEST(test_hs384_hs512_same_secret)
{
    char *t384 = fixture_mint(JWT_ALG_HS384, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    char *t512 = fixture_mint(JWT_ALG_HS512, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    ck_assert_int_eq(fixture_verify(t384), TOKEN_ERR_ALG);
    ck_assert_int_eq(fixture_verify(t512), TOKEN_ERR_ALG);
    free(t384);
    free(t512);
}
END_TEST

/* A good HS256 token whose header is swapped for another alg: the header is
 * judged before the signature. */
START_TEST(test_header_swapped)
{
    static const char *headers[] = {
        "eyJhbGciOiJub25lIn0",              /* {"alg":"none"} */
        "eyJhbGciOiJIUzUxMiJ9",             /* {"alg":"HS512"} */
        "eyJhbGciOiJSUzI1NiJ9",             /* {"alg":"RS256"} */
        "eyJhbGciOiJFUzI1NiJ9",             /* {"alg":"ES256"} */
        "eyJhbGciOiJIUzI1NiAifQ",           /* {"alg":"HS256 "} */
    };
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    const char *rest = strchr(good, '.');
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char buf[2048];
        snprintf(buf, sizeof(buf), "%s%s", headers[i], rest);
        ck_assert_msg(fixture_verify(buf) == TOKEN_ERR_ALG, "header %zu", i);
    }
    free(good);
}
END_TEST

static Suite *token_alg_suite(void)
{
    Suite *s = suite_create("token_alg");
    TCase *tc = tcase_create("alg");
    tcase_add_loop_test(tc, test_forged_header, 0, (int)(sizeof(forged) / sizeof(forged[0])));
    tcase_add_test(tc, test_alg_none);
    tcase_add_test(tc, test_hs384_hs512_same_secret);
    tcase_add_test(tc, test_header_swapped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_alg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
