/* Tampering, wrong keys, size and shape: nothing but a well-formed token
 * signed with our secret gets past token_verify. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "token_fixture.h"

#define PAYLOAD_B64                                                                                            \
    "eyJpc3MiOiJzdXBlcmJvdCIsImF1ZCI6InN1cGVyYm90LXJlYWx0aW1lIiwic3ViIjoidTEiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MT" \
    "cwMDAwMDMwMCwic2VydmVycyI6WyJzMSJdfQ"

START_TEST(test_wrong_secret)
{
    char *token = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_OTHER_SECRET);
    ck_assert_int_eq(fixture_verify(token), TOKEN_ERR_SIGNATURE);
    free(token);
}
END_TEST

START_TEST(test_tampered_payload)
{
    /* Sign for u1, then put a payload for "admin" in its place. */
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    char *evil = fixture_mint(JWT_ALG_HS256, "{\"iss\":\"superbot\",\"aud\":\"superbot-realtime\",\"sub\":\"admin\","
                                             "\"exp\":1700000300}", FIXTURE_OTHER_SECRET);
    char buf[2048];
    const char *good_dot1 = strchr(good, '.');
    const char *good_dot2 = strchr(good_dot1 + 1, '.');
    const char *evil_dot1 = strchr(evil, '.');
    const char *evil_dot2 = strchr(evil_dot1 + 1, '.');
    snprintf(buf, sizeof(buf), "%.*s%.*s%s", (int)(good_dot1 - good), good, (int)(evil_dot2 - evil_dot1), evil_dot1,
             good_dot2);
    ck_assert_int_eq(fixture_verify(buf), TOKEN_ERR_SIGNATURE);
    free(good);
    free(evil);
}
END_TEST

START_TEST(test_tampered_signature)
{
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    size_t len = strlen(good);
    char *bad = strdup(good);
    bad[len - 2] = bad[len - 2] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(fixture_verify(bad), TOKEN_ERR_SIGNATURE);
    /* Truncated by one character: no longer canonical base64url of 32 bytes. */
    bad[len - 1] = '\0';
    strncpy(bad, good, len - 1);
    ck_assert_int_ne(fixture_verify(bad), TOKEN_OK);
    free(bad);
    free(good);
}
END_TEST

START_TEST(test_duplicate_claim)
{
    /* {"sub":"u1","sub":"admin"} signed correctly: parsers may disagree, so refuse. */
    ck_assert_int_eq(
        fixture_verify("eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzdXBlcmJvdCIsImF1ZCI6InN1cGVyYm90LXJlYWx0aW1lIiwic3ViIjoidTEi"
                       "LCJzdWIiOiJhZG1pbiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMzAwLCJzZXJ2ZXJzIjpbInMxIl19."
                       "qckirs5LpOU4Rlo91BgnSywIIMwe-tvk104Ml50teAo"),
        TOKEN_ERR_MALFORMED);
}
END_TEST

START_TEST(test_oversize)
{
    /* A valid signature on 8 KB of claims is still refused, before any parsing. */
    size_t pad = 8192;
    char *payload = malloc(pad + 256);
    int n = snprintf(payload, 256, "{" FIXTURE_CLAIMS ",\"pad\":\"");
    memset(payload + n, 'x', pad);
    strcpy(payload + n + pad, "\"}");
    char *token = fixture_mint(JWT_ALG_HS256, payload, FIXTURE_SECRET);
    ck_assert_int_eq(fixture_verify(token), TOKEN_ERR_OVERSIZE);
    struct token_rules rules;
    fixture_rules(&rules);
    rules.max_bytes = 65536;
    struct token_claims c;
    ck_assert_int_eq(token_verify(token, strlen(token), &rules, &c), TOKEN_OK);
    token_claims_free(&c);
    free(token);
    free(payload);
}
END_TEST

static const char *malformed[] = {
    "",
    "garbage",
    "a.b",
    "a.b.c.d",
    ".." ,
    "eyJhbGciOiJIUzI1NiJ9.." ,
    "eyJhbGciOiJIUzI1NiJ9." PAYLOAD_B64 ".",
    "." PAYLOAD_B64 ".c2ln",
    "eyJhbGciOiJIUzI1NiJ9=." PAYLOAD_B64 ".c2ln",        /* padding */
    "eyJhbGciOiJIUzI1NiJ9." PAYLOAD_B64 "+.c2ln",        /* base64, not base64url */
    "eyJhbGciOiJIUzI1NiJ9 ." PAYLOAD_B64 ".c2ln",
    "bm90IGpzb24." PAYLOAD_B64 ".c2ln",                  /* header "not json" */
    "WyJIUzI1NiJd." PAYLOAD_B64 ".c2ln",                 /* header ["HS256"] */
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.H1KAMohhxvz9xNHi4hmiCNDGq4KNsGpkK6GoA9-E04U", /* payload "not json", signed */
    "eyJhbGciOiJIUzI1NiJ9.WzEsMl0.K6qkVBGZjUPtCpRXTttoN8fe-YmLd-dv3mW8opsofTo",     /* payload [1,2], signed */
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpPU0UrSlNPTiJ9." PAYLOAD_B64 ".LIEHIiPt3EjezU-9k9yo8fImpqrWvYYPWUmf4fgtqVQ", /* typ */
};

START_TEST(test_malformed)
{
    ck_assert_msg(fixture_verify(malformed[_i]) == TOKEN_ERR_MALFORMED, "case %d: %s", _i,
                  token_error_name(fixture_verify(malformed[_i])));
}
END_TEST

START_TEST(test_embedded_nul)
{
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    size_t len = strlen(good);
    struct token_rules rules;
    fixture_rules(&rules);
    struct token_claims c;
    good[5] = '\0';
    ck_assert_int_eq(token_verify(good, len, &rules, &c), TOKEN_ERR_MALFORMED);
    free(good);
}
END_TEST

START_TEST(test_empty_secret_refuses)
{
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS "}", FIXTURE_SECRET);
    struct token_rules rules;
    fixture_rules(&rules);
    rules.secret = "";
    rules.secret_len = 0;
    struct token_claims c;
    ck_assert_int_eq(token_verify(good, strlen(good), &rules, &c), TOKEN_ERR_SIGNATURE);
    free(good);
}
END_TEST

static Suite *token_security_suite(void)
{
    Suite *s = suite_create("token_security");
    TCase *tc = tcase_create("security");
    tcase_add_test(tc, test_wrong_secret);
    tcase_add_test(tc, test_tampered_payload);
    tcase_add_test(tc, test_tampered_signature);
    tcase_add_test(tc, test_duplicate_claim);
    tcase_add_test(tc, test_oversize);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(malformed) / sizeof(malformed[0])));
    tcase_add_test(tc, test_embedded_nul);
    tcase_add_test(tc, test_empty_secret_refuses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_security_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
