/* The outage buffer of bus-redis as a data structure: order, the three
 * bounds and the count of what they drop, in-flight messages sent again
 * after a lost link (ahead of newer ones), answers to dropped messages,
 * the envelope each message carries; lanes (cluster slots) independent of
 * each other, a lane redirected (MOVED) sent again whole and in order, and
 * answered messages kept for a replay after a failover. */
#include "redis_envelope.h"
#include "redis_outbox.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN "0123456789abcdef"
#define T0 1750000000000ull

static struct redis_outbox ob;

static void setup(void)
{
    ck_assert_int_eq(redis_outbox_init(&ob, 1, 5, 1 << 20, 60000), 0);
}

static void teardown(void)
{
    redis_outbox_clear(&ob);
}

static void push_lane(uint32_t lane, const char *payload, uint64_t now)
{
    ck_assert_int_eq(redis_outbox_push(&ob, lane, ORIGIN, "prefix:bus:room:a", payload, strlen(payload), now), 0);
}

static void push(const char *payload, uint64_t now)
{
    push_lane(0, payload, now);
}

/* The payload of an entry, as a string (static buffer). */
static const char *payload_of(const struct redis_outbox_entry *e)
{
    static char text[256];
    uint64_t seq;
    const char *p;
    size_t len;
    ck_assert_int_eq(redis_envelope_parse(e->envelope, e->envelope_len, &seq, &p, &len), 0);
    ck_assert_uint_eq(seq, e->seq);
    snprintf(text, sizeof(text), "%.*s", (int)len, p);
    return text;
}

/* Send everything waiting in a lane; the payloads in the order sent, comma-separated. */
static const char *send_lane(uint32_t lane)
{
    static char order[512];
    order[0] = '\0';
    struct redis_outbox_entry *e;
    while ((e = redis_outbox_next(&ob, lane))) {
        if (order[0])
            strcat(order, ",");
        strcat(order, payload_of(e));
        redis_outbox_sent(&ob, lane, 1);
    }
    return order;
}

static const char *send_all(void)
{
    return send_lane(0);
}

static void answered(void)
{
    redis_outbox_answered(&ob, 0, T0);
}

/* The oldest unanswered entry of lane 0. */
#define HEAD (ob.lanes[0].head)

START_TEST(kept_in_order_until_answered)
{
    push("a", T0);
    push("b", T0);
    ck_assert_str_eq(send_all(), "a,b");
    ck_assert_uint_eq(ob.lanes[0].in_flight, 2);
    ck_assert_uint_eq(ob.count, 2);
    answered();
    ck_assert_uint_eq(ob.count, 1);
    ck_assert_str_eq(payload_of(HEAD), "b");
    answered();
    ck_assert_uint_eq(ob.count, 0);
    ck_assert_uint_eq(ob.bytes, 0);
    ck_assert_ptr_null(redis_outbox_next(&ob, 0));
    /* An answer with nothing in flight changes nothing. */
    answered();
    ck_assert_uint_eq(ob.dropped, 0);
}
END_TEST

START_TEST(envelope_carries_origin_and_sequence)
{
    push("x", T0);
    push("", T0);
    const struct redis_outbox_entry *e = HEAD;
    ck_assert_str_eq(e->channel, "prefix:bus:room:a");
    ck_assert_uint_eq(e->envelope_len, REDIS_ENVELOPE_HEAD + 1);
    ck_assert_int_eq(memcmp(e->envelope, ORIGIN, REDIS_ENVELOPE_ID_LEN), 0);
    ck_assert_int_eq(memcmp(e->envelope + REDIS_ENVELOPE_ID_LEN, "0000000000000001x", 17), 0);
    ck_assert_uint_eq(e->lane_next->seq, 2);
    ck_assert_uint_eq(e->lane_next->envelope_len, REDIS_ENVELOPE_HEAD);
    uint64_t seq;
    const char *p;
    size_t len;
    ck_assert_int_eq(redis_envelope_parse("short", 5, &seq, &p, &len), -1);
    char bad[REDIS_ENVELOPE_HEAD + 1];
    memcpy(bad, e->envelope, REDIS_ENVELOPE_HEAD + 1);
    bad[REDIS_ENVELOPE_ID_LEN + 3] = 'G';
    ck_assert_int_eq(redis_envelope_parse(bad, sizeof(bad), &seq, &p, &len), -1);
    char big[REDIS_ENVELOPE_HEAD];
    redis_envelope_head(big, ORIGIN, 0xfedcba9876543210ull);
    ck_assert_int_eq(redis_envelope_parse(big, sizeof(big), &seq, &p, &len), 0);
    ck_assert_uint_eq(seq, 0xfedcba9876543210ull);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(lost_link_sends_in_flight_again_first)
{
    push("1", T0);
    push("2", T0);
    push("3", T0);
    ck_assert_str_eq(send_all(), "1,2,3");
    answered(); /* 1 is done */
    /* The link dies with 2 and 3 unanswered; 4 comes while it is down. */
    redis_outbox_rewind(&ob);
    push("4", T0);
    ck_assert_uint_eq(ob.lanes[0].in_flight, 0);
    /* Back: the replay comes before anything newer, in the original order. */
    ck_assert_str_eq(send_all(), "2,3,4");
    push("5", T0);
    ck_assert_str_eq(send_all(), "5");
    for (int i = 0; i < 4; i++)
        answered();
    ck_assert_uint_eq(ob.count, 0);
    ck_assert_uint_eq(ob.dropped, 0);
}
END_TEST

START_TEST(bounded_by_count_oldest_dropped_and_counted)
{
    char text[8];
    for (int i = 1; i <= 8; i++) {
        snprintf(text, sizeof(text), "%d", i);
        push(text, T0);
    }
    ck_assert_uint_eq(ob.count, 5);
    ck_assert_uint_eq(ob.dropped, 3);
    ck_assert_str_eq(send_all(), "4,5,6,7,8");
}
END_TEST

START_TEST(bounded_by_bytes)
{
    redis_outbox_clear(&ob);
    redis_outbox_init(&ob, 1, 1000, 3 * (REDIS_ENVELOPE_HEAD + 10), 60000);
    for (int i = 0; i < 5; i++)
        push("0123456789", T0);
    ck_assert_uint_eq(ob.count, 3);
    ck_assert_uint_eq(ob.bytes, 3 * (REDIS_ENVELOPE_HEAD + 10));
    ck_assert_uint_eq(ob.dropped, 2);
    /* One message larger than the whole bound is dropped at once. */
    char huge[200];
    memset(huge, 'h', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    push(huge, T0);
    ck_assert_uint_eq(ob.count, 0);
    ck_assert_uint_eq(ob.dropped, 6);
}
END_TEST

START_TEST(bounded_by_age)
{
    push("old", T0);
    push("older-but-one", T0 + 30000);
    push("new", T0 + 61000); /* "old" is 61 s old now */
    ck_assert_uint_eq(ob.count, 2);
    ck_assert_uint_eq(ob.dropped, 1);
    /* Time passing alone drops nothing until a trim (at reconnect). */
    ck_assert_uint_eq(redis_outbox_trim(&ob, T0 + 89000), 0);
    ck_assert_uint_eq(redis_outbox_trim(&ob, T0 + 91000), 1);
    ck_assert_str_eq(send_all(), "new");
    ck_assert_uint_eq(ob.dropped, 2);
    /* A clock that went back drops nothing. */
    ck_assert_uint_eq(redis_outbox_trim(&ob, T0), 0);
}
END_TEST

START_TEST(dropped_in_flight_keeps_answers_aligned)
{
    push("1", T0);
    push("2", T0);
    ck_assert_str_eq(send_all(), "1,2");
    /* Redis is slow: the bound drops 1 and 2 while they are in flight. */
    for (int i = 3; i <= 7; i++) {
        char text[4];
        snprintf(text, sizeof(text), "%d", i);
        push(text, T0);
    }
    ck_assert_uint_eq(ob.dropped, 2);
    ck_assert_uint_eq(ob.lanes[0].in_flight, 0);
    ck_assert_uint_eq(ob.lanes[0].answers_to_skip, 2);
    ck_assert_str_eq(send_all(), "3,4,5,6,7");
    /* The two answers owed to 1 and 2 retire nothing. */
    answered();
    answered();
    ck_assert_uint_eq(ob.count, 5);
    answered();
    ck_assert_uint_eq(ob.count, 4);
    ck_assert_str_eq(payload_of(HEAD), "4");
}
END_TEST

START_TEST(rewind_forgets_owed_answers)
{
    redis_outbox_clear(&ob);
    redis_outbox_init(&ob, 1, 2, 1 << 20, 60000);
    push("1", T0);
    ck_assert_str_eq(send_all(), "1");
    push("2", T0);
    push("3", T0); /* drops 1, in flight */
    ck_assert_uint_eq(ob.lanes[0].answers_to_skip, 1);
    /* The link that owed that answer is gone: the next link owes none. */
    redis_outbox_rewind(&ob);
    ck_assert_uint_eq(ob.lanes[0].answers_to_skip, 0);
    ck_assert_str_eq(send_all(), "2,3");
    answered();
    ck_assert_str_eq(payload_of(HEAD), "3");
}
END_TEST

START_TEST(sequence_numbers_keep_counting)
{
    for (int i = 0; i < 3; i++)
        push("m", T0);
    send_all();
    for (int i = 0; i < 3; i++)
        answered();
    push("m", T0);
    ck_assert_uint_eq(HEAD->seq, 4);
}
END_TEST

START_TEST(lanes_are_independent)
{
    redis_outbox_clear(&ob);
    ck_assert_int_eq(redis_outbox_init(&ob, 16384, 100, 1 << 20, 60000), 0);
    push_lane(7, "a1", T0);
    push_lane(9, "b1", T0);
    push_lane(7, "a2", T0);
    ck_assert_str_eq(send_lane(7), "a1,a2");
    ck_assert_str_eq(send_lane(9), "b1");
    /* Answers come per lane (each lane's node answers in order). */
    redis_outbox_answered(&ob, 9, T0);
    ck_assert_uint_eq(ob.unanswered, 2);
    ck_assert_str_eq(payload_of(ob.oldest), "a1");
    redis_outbox_answered(&ob, 7, T0);
    ck_assert_str_eq(payload_of(ob.oldest), "a2");
    /* The bounds drop the oldest of all lanes. */
    ck_assert_int_eq(redis_outbox_push(&ob, 16384, ORIGIN, "c", "x", 1, T0), -1);
    ck_assert_uint_eq(ob.count, 1);
}
END_TEST

START_TEST(redirected_lane_waits_then_goes_whole_and_in_order)
{
    redis_outbox_clear(&ob);
    ck_assert_int_eq(redis_outbox_init(&ob, 16384, 100, 1 << 20, 60000), 0);
    push_lane(5, "1", T0);
    push_lane(5, "2", T0);
    push_lane(5, "3", T0);
    ck_assert_str_eq(send_lane(5), "1,2,3");
    /* 1 was taken before the slot moved; 2 and 3 come back MOVED. */
    redis_outbox_answered(&ob, 5, T0);
    ck_assert_int_eq(redis_outbox_redirected(&ob, 5), 0);
    /* 4 is published before 3's answer: it must not overtake 2 and 3. */
    push_lane(5, "4", T0);
    ck_assert_ptr_null(redis_outbox_next(&ob, 5));
    ck_assert_int_eq(redis_outbox_redirected(&ob, 5), 1);
    ck_assert_str_eq(send_lane(5), "2,3,4");
    for (int i = 0; i < 3; i++)
        redis_outbox_answered(&ob, 5, T0);
    ck_assert_uint_eq(ob.count, 0);
    ck_assert_uint_eq(ob.dropped, 0);
}
END_TEST

START_TEST(dropped_while_redirected_keeps_the_lane_aligned)
{
    redis_outbox_clear(&ob);
    ck_assert_int_eq(redis_outbox_init(&ob, 4, 3, 1 << 20, 60000), 0);
    push_lane(1, "1", T0);
    push_lane(1, "2", T0);
    ck_assert_str_eq(send_lane(1), "1,2");
    ck_assert_int_eq(redis_outbox_redirected(&ob, 1), 0); /* 1 moved */
    push_lane(2, "x", T0);
    push_lane(2, "y", T0); /* past 3 entries: 1 (redirected) is dropped */
    ck_assert_uint_eq(ob.dropped, 1);
    ck_assert_uint_eq(ob.lanes[1].redirected, 0);
    ck_assert_int_eq(redis_outbox_redirected(&ob, 1), 1); /* 2 moved too */
    ck_assert_str_eq(send_lane(1), "2");
}
END_TEST

START_TEST(answered_kept_for_a_replay)
{
    ob.keep_answered_ms = 5000;
    push("1", T0);
    push("2", T0);
    ck_assert_str_eq(send_all(), "1,2");
    answered();
    answered();
    ck_assert_uint_eq(ob.unanswered, 0);
    ck_assert_uint_eq(ob.count, 2);
    push("3", T0 + 1000);
    ck_assert_str_eq(send_all(), "3");
    /* A failover: the old master's answers may be lost; 1 and 2 go again
     * before 3 (in flight, sent again too) and anything newer. */
    ck_assert_uint_eq(redis_outbox_replay(&ob), 2);
    push("4", T0 + 1000);
    ck_assert_str_eq(send_all(), "1,2,3,4");
    ck_assert_uint_eq(ob.dropped, 0);
    /* Kept only keep_answered_ms: then they leave, not counted as drops. */
    for (int i = 0; i < 4; i++)
        redis_outbox_answered(&ob, 0, T0 + 2000);
    ck_assert_uint_eq(ob.count, 4);
    ck_assert_uint_eq(redis_outbox_trim(&ob, T0 + 7001), 0);
    ck_assert_uint_eq(ob.count, 0);
    ck_assert_uint_eq(ob.dropped, 0);
}
END_TEST

START_TEST(answered_kept_across_an_outage)
{
    ob.keep_answered_ms = 5000;
    push("1", T0);
    push("2", T0 + 3000);
    ck_assert_str_eq(send_all(), "1,2");
    redis_outbox_answered(&ob, 0, T0 + 1000);
    redis_outbox_answered(&ob, 0, T0 + 4000);
    /* The master dies at T0 + 7000: what it answered since T0 + 2000 stays,
     * however long the sentinels take to replace it. */
    redis_outbox_keep_answered(&ob, T0 + 7000);
    push("3", T0 + 30000);
    ck_assert_uint_eq(ob.count, 2);
    ck_assert_str_eq(payload_of(ob.oldest), "2");
    ck_assert_uint_eq(redis_outbox_replay(&ob), 1);
    ck_assert_str_eq(send_all(), "2,3");
    /* The same master back instead: they age out as before. */
    redis_outbox_answered(&ob, 0, T0 + 31000);
    redis_outbox_keep_answered(&ob, T0 + 32000);
    redis_outbox_keep_answered(&ob, 0);
    ck_assert_uint_eq(redis_outbox_trim(&ob, T0 + 37000), 0);
    ck_assert_uint_eq(ob.count, 1);
    ck_assert_uint_eq(ob.dropped, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis-outbox");
    TCase *tc = tcase_create("outbox");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, kept_in_order_until_answered);
    tcase_add_test(tc, envelope_carries_origin_and_sequence);
    tcase_add_test(tc, lost_link_sends_in_flight_again_first);
    tcase_add_test(tc, bounded_by_count_oldest_dropped_and_counted);
    tcase_add_test(tc, bounded_by_bytes);
    tcase_add_test(tc, bounded_by_age);
    tcase_add_test(tc, dropped_in_flight_keeps_answers_aligned);
    tcase_add_test(tc, rewind_forgets_owed_answers);
    tcase_add_test(tc, sequence_numbers_keep_counting);
    tcase_add_test(tc, lanes_are_independent);
    tcase_add_test(tc, redirected_lane_waits_then_goes_whole_and_in_order);
    tcase_add_test(tc, dropped_while_redirected_keeps_the_lane_aligned);
    tcase_add_test(tc, answered_kept_for_a_replay);
    tcase_add_test(tc, answered_kept_across_an_outage);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
