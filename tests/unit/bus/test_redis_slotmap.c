/* The cluster's slot map read from CLUSTER SLOTS answers (a real one, taken
 * from a Redis 7.0 cluster after slot 12182 moved, and hand-made odd ones),
 * and the redirections a node answers with (MOVED, ASK, TRYAGAIN, a slot
 * not served). */
#include "redis_slotmap.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct redis_slotmap map;
static char err[200];

/* Parse RESP text into a reply, as hiredis reads it off a socket. */
static redisReply *reply_of(const char *resp)
{
    redisReader *reader = redisReaderCreate();
    void *reply = NULL;
    ck_assert_int_eq(redisReaderFeed(reader, resp, strlen(resp)), REDIS_OK);
    ck_assert_int_eq(redisReaderGetReply(reader, &reply), REDIS_OK);
    ck_assert_ptr_nonnull(reply);
    redisReaderFree(reader);
    return reply;
}

/* Three masters, slot 12182 moved from the third to the first. */
static const char real_slots[] =
    "*5\r\n*3\r\n:0\r\n:5460\r\n*4\r\n$9\r\n127.0.0.1\r\n:17001\r\n$40\r\n00066db56fc002ac559c439f5aa6a1aa7d18cb8a\r\n"
    "*0\r\n*3\r\n:5461\r\n:10922\r\n*4\r\n$9\r\n127.0.0.1\r\n:17002\r\n$40\r\n7f17f7a05e8990d33838897cc03c22a3552a2fc1"
    "\r\n*0\r\n*3\r\n:10923\r\n:12181\r\n*4\r\n$9\r\n127.0.0.1\r\n:17003\r\n$40\r\n3e72504819ed0d83d3e15c00330bd10c7e8"
    "b8020\r\n*0\r\n*3\r\n:12182\r\n:12182\r\n*4\r\n$9\r\n127.0.0.1\r\n:17001\r\n$40\r\n00066db56fc002ac559c439f5aa6a1"
    "aa7d18cb8a\r\n*0\r\n*3\r\n:12183\r\n:16383\r\n*4\r\n$9\r\n127.0.0.1\r\n:17003\r\n$40\r\n3e72504819ed0d83d3e15c003"
    "30bd10c7e8b8020\r\n*0\r\n";

START_TEST(a_real_answer)
{
    redisReply *r = reply_of(real_slots);
    ck_assert_int_eq(redis_slotmap_parse(r, "127.0.0.1", &map, err, sizeof(err)), 0);
    freeReplyObject(r);
    ck_assert_uint_eq(map.n_nodes, 3);
    ck_assert_uint_eq(redis_slotmap_uncovered(&map), 0);
    int a = redis_slotmap_find(&map, "127.0.0.1", 17001), c = redis_slotmap_find(&map, "127.0.0.1", 17003);
    ck_assert_int_ge(a, 0);
    ck_assert_int_ge(c, 0);
    ck_assert_int_eq(redis_slotmap_find(&map, "127.0.0.1", 17004), -1);
    ck_assert_int_eq(redis_slotmap_find(&map, "127.0.0.2", 17001), -1);
    ck_assert_uint_eq(map.owner[0], a);
    ck_assert_uint_eq(map.owner[12181], c);
    ck_assert_uint_eq(map.owner[12182], a); /* the slot of "foo", moved */
    ck_assert_uint_eq(map.owner[12183], c);
    ck_assert_uint_eq(map.owner[16383], c);
}
END_TEST

START_TEST(replicas_are_not_masters)
{
    /* One range whose master has a replica listed after it. */
    redisReply *r = reply_of("*1\r\n*4\r\n:0\r\n:16383\r\n*2\r\n$2\r\nm1\r\n:7000\r\n*2\r\n$2\r\nr1\r\n:7001\r\n");
    ck_assert_int_eq(redis_slotmap_parse(r, "seed", &map, err, sizeof(err)), 0);
    freeReplyObject(r);
    ck_assert_uint_eq(map.n_nodes, 1);
    ck_assert_str_eq(map.nodes[0].host, "m1");
    ck_assert_int_eq(map.nodes[0].port, 7000);
}
END_TEST

START_TEST(unknown_and_empty_hosts)
{
    /* "": the node asked; "?": not known (its slots have no master for us). */
    redisReply *r = reply_of("*2\r\n*3\r\n:0\r\n:99\r\n*2\r\n$0\r\n\r\n:7000\r\n"
                             "*3\r\n:100\r\n:16383\r\n*2\r\n$1\r\n?\r\n:7001\r\n");
    ck_assert_int_eq(redis_slotmap_parse(r, "10.1.2.3", &map, err, sizeof(err)), 0);
    freeReplyObject(r);
    ck_assert_uint_eq(map.n_nodes, 1);
    ck_assert_str_eq(map.nodes[0].host, "10.1.2.3");
    ck_assert_uint_eq(map.owner[99], 0);
    ck_assert_uint_eq(map.owner[100], REDIS_SLOT_NONE);
    ck_assert_uint_eq(redis_slotmap_uncovered(&map), 16384 - 100);
}
END_TEST

static const char *const bad_answers[] = {
    "-ERR This instance has cluster support disabled\r\n",
    "+OK\r\n",
    "*1\r\n:5\r\n",
    "*1\r\n*2\r\n:0\r\n:10\r\n",
    "*1\r\n*3\r\n:10\r\n:5\r\n*2\r\n$1\r\nh\r\n:7000\r\n",
    "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:7000\r\n",
    "*1\r\n*3\r\n:-1\r\n:5\r\n*2\r\n$1\r\nh\r\n:7000\r\n",
    "*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n:0\r\n",
    "*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n$4\r\n7000\r\n",
    "*1\r\n*3\r\n:0\r\n:5\r\n*1\r\n$1\r\nh\r\n",
    "*1\r\n*3\r\n$1\r\n0\r\n:5\r\n*2\r\n$1\r\nh\r\n:7000\r\n",
};

START_TEST(answers_of_another_shape)
{
    redisReply *r = reply_of(bad_answers[_i]);
    err[0] = '\0';
    ck_assert_msg(redis_slotmap_parse(r, "seed", &map, err, sizeof(err)) == -1, "accepted %d", _i);
    ck_assert_ptr_nonnull(strstr(err, "CLUSTER SLOTS"));
    freeReplyObject(r);
}
END_TEST

START_TEST(too_many_masters)
{
    char resp[64 * 200] = "";
    size_t at = (size_t)snprintf(resp, sizeof(resp), "*%d\r\n", REDIS_SLOTMAP_MAX_NODES + 1);
    for (int i = 0; i <= REDIS_SLOTMAP_MAX_NODES; i++)
        at += (size_t)snprintf(resp + at, sizeof(resp) - at, "*3\r\n:%d\r\n:%d\r\n*2\r\n$1\r\nh\r\n:%d\r\n", i, i,
                               7000 + i);
    redisReply *r = reply_of(resp);
    ck_assert_int_eq(redis_slotmap_parse(r, "seed", &map, err, sizeof(err)), -1);
    freeReplyObject(r);
}
END_TEST

START_TEST(redirections)
{
    struct redis_redirect rd;
    ck_assert_int_eq(redis_redirect_parse("MOVED 3999 127.0.0.1:6381", &rd), REDIS_REDIRECT_MOVED);
    ck_assert_uint_eq(rd.slot, 3999);
    ck_assert_str_eq(rd.host, "127.0.0.1");
    ck_assert_int_eq(rd.port, 6381);
    ck_assert_int_eq(redis_redirect_parse("ASK 12182 127.0.0.1:17001", &rd), REDIS_REDIRECT_ASK);
    ck_assert_int_eq(rd.kind, REDIS_REDIRECT_ASK);
    ck_assert_uint_eq(rd.slot, 12182);
    ck_assert_int_eq(rd.port, 17001);
    ck_assert_int_eq(redis_redirect_parse("MOVED 0 [::1]:7000", &rd), REDIS_REDIRECT_MOVED);
    ck_assert_str_eq(rd.host, "::1");
    ck_assert_int_eq(redis_redirect_parse("MOVED 16383 ::1:7000", &rd), REDIS_REDIRECT_MOVED);
    ck_assert_str_eq(rd.host, "::1");
    /* No host: the node that answered. */
    ck_assert_int_eq(redis_redirect_parse("MOVED 5 :7002", &rd), REDIS_REDIRECT_MOVED);
    ck_assert_str_eq(rd.host, "");
    ck_assert_int_eq(rd.port, 7002);
    ck_assert_int_eq(redis_redirect_parse("TRYAGAIN Multiple keys request during rehashing of slot", &rd),
                     REDIS_REDIRECT_TRYAGAIN);
    ck_assert_int_eq(redis_redirect_parse("TRYAGAIN", &rd), REDIS_REDIRECT_TRYAGAIN);
    /* A node whose view has no master for the slot (it was just removed). */
    ck_assert_int_eq(redis_redirect_parse("CLUSTERDOWN Hash slot not served", &rd), REDIS_REDIRECT_UNSERVED);
}
END_TEST

static const char *const not_redirections[] = {
    "MOVED",
    "MOVED 3999",
    "MOVED 3999 127.0.0.1",
    "MOVED 16384 h:1",
    "MOVED -1 h:1",
    "MOVED x h:1",
    "MOVED 1 h:0",
    "MOVED 1 h:70000",
    "MOVED 1 h:12ab",
    "ASK",
    "MOVEDX 1 h:1",
    "TRYAGAINX",
    "CLUSTERDOWN The cluster is down",
    "CLUSTERDOWN Hash slot not served, really",
    "CROSSSLOT Keys in request don't hash to the same slot",
    "ERR unknown command",
    "",
};

START_TEST(other_errors)
{
    struct redis_redirect rd;
    ck_assert_msg(redis_redirect_parse(not_redirections[_i], &rd) == REDIS_REDIRECT_NONE, "took '%s'",
                  not_redirections[_i]);
    ck_assert_int_eq(rd.kind, REDIS_REDIRECT_NONE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redis-slotmap");
    TCase *tc = tcase_create("slotmap");
    tcase_add_test(tc, a_real_answer);
    tcase_add_test(tc, replicas_are_not_masters);
    tcase_add_test(tc, unknown_and_empty_hosts);
    tcase_add_loop_test(tc, answers_of_another_shape, 0, (int)(sizeof(bad_answers) / sizeof(bad_answers[0])));
    tcase_add_test(tc, too_many_masters);
    tcase_add_test(tc, redirections);
    tcase_add_loop_test(tc, other_errors, 0, (int)(sizeof(not_redirections) / sizeof(not_redirections[0])));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
