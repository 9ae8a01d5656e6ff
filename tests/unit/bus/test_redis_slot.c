/* Cluster key hash slots: CRC16/XMODEM against its reference vector, the
 * slots of known keys as `redis-cli CLUSTER KEYSLOT` (Redis 7.0.15) gave
 * them, the hash tag rules, and the table of a tag per slot. */
#include "redis_slot.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(crc16_reference_vector)
{
    ck_assert_uint_eq(redis_crc16("123456789", 9), 0x31C3);
    ck_assert_uint_eq(redis_crc16("", 0), 0);
    ck_assert_uint_eq(redis_crc16("A", 1), 0x58E5);
}
END_TEST

/* Recorded with redis-cli -p <a cluster node> CLUSTER KEYSLOT <key>. */
static const struct {
    const char *key;
    unsigned slot;
} known[] = {
    {"123456789", 12739},
    {"foo", 12182},
    {"bar", 5061},
    {"", 0},
    {"{user1000}.following", 3443},
    {"{user1000}.followers", 3443},
    {"superbot-realtime:bus:room:channel:1", 8452},
    {"superbot-realtime:map:{presence:s1}", 13194},
    {"superbot-realtime:mapx:{presence:s1}", 13194},
};

START_TEST(slots_of_known_keys)
{
    const char *key = known[_i].key;
    ck_assert_msg(redis_slot(key, strlen(key)) == known[_i].slot, "%s: %u, not %u", key, redis_slot(key, strlen(key)),
                  known[_i].slot);
}
END_TEST

/* The tag rules, each with what KEYSLOT answered. */
static const struct {
    const char *key;
    unsigned slot;
    const char *why;
} tags[] = {
    {"foo{}{bar}", 8363, "an empty first tag: the whole key is hashed"},
    {"foo{{bar}}zap", 4015, "the tag runs from the first '{' to the first '}' after it: \"{bar\""},
    {"foo{bar}{zap}", 5061, "only the first tag counts: \"bar\""},
    {"{}", 15257, "an empty tag alone: the whole key"},
    {"a{b", 13340, "no '}' after the '{': the whole key"},
    {"a}b{c}", 7365, "a '}' before the '{' does not close it: \"c\""},
};

START_TEST(hash_tag_rules)
{
    const char *key = tags[_i].key;
    ck_assert_msg(redis_slot(key, strlen(key)) == tags[_i].slot, "%s (%s): %u", key, tags[_i].why,
                  redis_slot(key, strlen(key)));
}
END_TEST

START_TEST(keys_sharing_a_tag_share_a_slot)
{
    ck_assert_uint_eq(redis_slot("{bar}", 5), redis_slot("bar", 3));
    ck_assert_uint_eq(redis_slot("x:{room:1}:a", 12), redis_slot("y:{room:1}", 10));
    /* Bytes, not text: a NUL inside a key is hashed too. */
    ck_assert_uint_ne(redis_slot("a\0b", 3), redis_slot("a", 1));
}
END_TEST

START_TEST(a_tag_for_every_slot)
{
    static char table[REDIS_SLOTS][REDIS_SLOT_TAG_SIZE];
    redis_slot_tags_build(table);
    for (unsigned slot = 0; slot < REDIS_SLOTS; slot++) {
        char key[32];
        size_t n = strlen(table[slot]);
        ck_assert_msg(n > 0 && n < REDIS_SLOT_TAG_SIZE, "slot %u has no tag", slot);
        /* As a tag inside a longer key, as redis_publish_stream uses it. */
        int len = snprintf(key, sizeof(key), "p:bus:recent:{%s}", table[slot]);
        ck_assert_uint_eq(redis_slot(key, (size_t)len), slot);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis-slot");
    TCase *tc = tcase_create("slot");
    tcase_add_test(tc, crc16_reference_vector);
    tcase_add_loop_test(tc, slots_of_known_keys, 0, (int)(sizeof(known) / sizeof(known[0])));
    tcase_add_loop_test(tc, hash_tag_rules, 0, (int)(sizeof(tags) / sizeof(tags[0])));
    tcase_add_test(tc, keys_sharing_a_tag_share_a_slot);
    tcase_add_test(tc, a_tag_for_every_slot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
