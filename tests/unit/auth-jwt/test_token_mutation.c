/* Random damage to a good token, on a fixed seed and a bounded count: it
 * never crashes, leaks or passes unless it is the very same token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "token_fixture.h"

#define MUTATIONS 20000

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \"{}";

/* A tiny deterministic generator, so a failure replays. */
static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static size_t mutate(char *buf, size_t len, size_t cap, uint32_t *rng)
{
    unsigned edits = 1 + next_random(rng) % 3;
    for (unsigned e = 0; e < edits; e++) {
        size_t at = len ? next_random(rng) % len : 0;
        char c = alphabet[next_random(rng) % (sizeof(alphabet) - 1)];
        switch (next_random(rng) % 4) {
        case 0: /* replace */
            if (len)
                buf[at] = c;
            break;
        case 1: /* insert */
            if (len + 1 < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = c;
                len++;
            }
            break;
        case 2: /* delete */
            if (len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
            break;
        default: /* truncate */
            len = at;
            break;
        }
    }
    buf[len] = '\0';
    return len;
}

START_TEST(test_mutations_never_pass)
{
    char *good = fixture_mint(JWT_ALG_HS256, "{" FIXTURE_CLAIMS ",\"sid\":\"s\",\"moderates\":[\"s1\"]}",
                              FIXTURE_SECRET);
    size_t good_len = strlen(good);
    size_t cap = good_len + 8;
    char *buf = malloc(cap);
    struct token_rules rules;
    fixture_rules(&rules);
    uint32_t rng = 0x5eed1234u;
    for (int i = 0; i < MUTATIONS; i++) {
        memcpy(buf, good, good_len + 1);
        size_t len = mutate(buf, good_len, cap, &rng);
        struct token_claims c;
        if (token_verify(buf, len, &rules, &c) == TOKEN_OK) {
            ck_assert_msg(len == good_len && memcmp(buf, good, len) == 0, "mutation %d passed: %s", i, buf);
            token_claims_free(&c);
        }
    }
    free(buf);
    free(good);
}
END_TEST

static Suite *token_mutation_suite(void)
{
    Suite *s = suite_create("token_mutation");
    TCase *tc = tcase_create("mutation");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mutations_never_pass);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(token_mutation_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
