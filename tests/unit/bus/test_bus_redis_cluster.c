/* bus-redis on a real Redis Cluster of three masters (redis-cli --cluster
 * create), driven through the fake host: keys land on the master owning
 * their slot; a migrating slot answers ASK (followed with ASKING), a map
 * whose two keys a migration split answers TRYAGAIN (retried) until the
 * slot moves and answers MOVED (followed, the map updated); channels are
 * sharded (SSUBSCRIBE on their slot's master) between worker processes,
 * and a subscription follows its slot to another master.  Each case
 * starts its own cluster. */
#include "bus_test.h"
#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct redis_cluster cluster;
static const char *config[16];

#define P() fake_provider()
#define CTX() fake_provider_ctx()
#define PREFIX "superbot-realtime:"

static void setup(void)
{
    ck_assert_int_eq(redis_cluster_start(&cluster, 3), 0);
}

static void teardown(void)
{
    fake_reset();
    redis_cluster_cleanup(&cluster);
}

static int load(void)
{
    int n = 0;
    config[n++] = "url";
    config[n++] = cluster.url;
    config[n++] = "reconnect_max_ms";
    config[n++] = "200";
    config[n++] = "connect_timeout_ms";
    config[n++] = "1000";
    config[n] = NULL;
    fake_real_clock();
    return fake_load("bus-redis", config);
}

static int state_is(void *ud)
{
    return fake_bus_state() == (int)(intptr_t)ud;
}

#define WAIT_CONNECTED()                                                                         \
    ck_assert_msg(fake_run_until_fn(state_is, (void *)(intptr_t)SBR_BUS_CONNECTED, 5000), "%s", \
                  fake_log())

/* A command on one node (port), its reply (to free). */
static redisReply *on_node(int port, const char *fmt, ...)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    ck_assert_msg(c && !c->err, "cannot reach node %d", port);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    ck_assert_ptr_nonnull(r);
    return r;
}

static long long on_node_int(int port, const char *fmt, const char *arg)
{
    redisReply *r = on_node(port, fmt, arg);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return v;
}

static unsigned slot_of(const char *key)
{
    return (unsigned)on_node_int(cluster.nodes[0].port, "CLUSTER KEYSLOT %s", key);
}

/* The port of the master owning slot. */
static int owner_of(unsigned slot)
{
    redisReply *r = on_node(cluster.nodes[0].port, "CLUSTER SLOTS");
    int port = -1;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *range = r->element[i];
        if (slot >= (unsigned)range->element[0]->integer && slot <= (unsigned)range->element[1]->integer)
            port = (int)range->element[2]->element[1]->integer;
    }
    freeReplyObject(r);
    return port;
}

static int other_than(int port)
{
    return cluster.nodes[0].port == port ? cluster.nodes[1].port : cluster.nodes[0].port;
}

static void node_id(int port, char out[64])
{
    redisReply *r = on_node(port, "CLUSTER MYID");
    snprintf(out, 64, "%s", r->str);
    freeReplyObject(r);
}

static void expect_ok(redisReply *r)
{
    ck_assert_msg(r->type == REDIS_REPLY_STATUS, "%s", r->type == REDIS_REPLY_ERROR ? r->str : "not OK");
    freeReplyObject(r);
}

/* The first half of a migration of slot: IMPORTING on to, MIGRATING on from. */
static void migrating(unsigned slot, int from, int to)
{
    char from_id[64], to_id[64];
    node_id(from, from_id);
    node_id(to, to_id);
    expect_ok(on_node(to, "CLUSTER SETSLOT %u IMPORTING %s", slot, from_id));
    expect_ok(on_node(from, "CLUSTER SETSLOT %u MIGRATING %s", slot, to_id));
}

/* The end of it: every node gives the slot to `to`. */
static void migrated(unsigned slot, int to)
{
    char to_id[64];
    node_id(to, to_id);
    expect_ok(on_node(to, "CLUSTER SETSLOT %u NODE %s", slot, to_id));
    for (int i = 0; i < cluster.n; i++)
        if (cluster.nodes[i].port != to)
            expect_ok(on_node(cluster.nodes[i].port, "CLUSTER SETSLOT %u NODE %s", slot, to_id));
}

static void migrate_key(int from, int to, const char *key)
{
    expect_ok(on_node(from, "MIGRATE 127.0.0.1 %d %s 0 5000", to, key));
}

START_TEST(keys_live_on_their_slots_master)
{
    ck_assert_int_eq(load(), 0);
    WAIT_CONNECTED();
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "3 masters"));
    ck_assert_double_eq(fake_metric("superbot_bus_redis_mode", "mode=\"cluster\""), 1);
    ck_assert_double_eq(fake_metric("superbot_bus_redis_masters", NULL), 3);
    ck_assert_ptr_nonnull(strstr(fake_bus_health(), "{\"bus_mode\":\"cluster\",\"bus_nodes\":["));
    for (int i = 0; i < cluster.n; i++) {
        char labels[100], node[100];
        snprintf(labels, sizeof(labels), "node=\"127.0.0.1:%d\",role=\"master\"", cluster.nodes[i].port);
        ck_assert_double_eq(fake_metric("superbot_bus_redis_link_up", labels), 1);
        snprintf(node, sizeof(node), "{\"node\":\"127.0.0.1:%d\",\"role\":\"master\",\"up\":true}",
                 cluster.nodes[i].port);
        ck_assert_msg(strstr(fake_bus_health(), node), "%s not in %s", node, fake_bus_health());
    }
    char key[32], redis_key[64];
    struct bus_result r[40];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        P()->kv_set(CTX(), key, "v", 1, 0, bus_test_record, &r[i]);
    }
    for (int i = 0; i < 40; i++) {
        BUS_WAIT(&r[i]);
        ck_assert_int_eq(r[i].status, SBR_OK);
        snprintf(redis_key, sizeof(redis_key), PREFIX "kv:k%d", i);
        /* The slot's master has it (the others answer MOVED). */
        ck_assert_int_eq(on_node_int(owner_of(slot_of(redis_key)), "EXISTS %s", redis_key), 1);
    }
    /* A map's two keys share a slot (a hash tag): its scripts run. */
    struct bus_result set = {0}, all = {0};
    P()->map_set(CTX(), "presence:s1", "u1", "online", 10000, bus_test_record, &set);
    P()->map_get_all(CTX(), "presence:s1", bus_test_record, &all);
    BUS_WAIT(&all);
    ck_assert_int_eq(set.status, SBR_OK);
    ck_assert_uint_eq(all.n, 1);
    ck_assert_str_eq(bus_test_field(&all, "u1"), "online");
    int owner = owner_of(slot_of(PREFIX "map:{presence:s1}"));
    ck_assert_int_eq(on_node_int(owner, "EXISTS %s", PREFIX "mapx:{presence:s1}"), 1);
    ck_assert_double_eq(fake_metric("superbot_bus_redis_local_answers_total", NULL), 0);
}
END_TEST

START_TEST(ask_while_a_slot_migrates)
{
    ck_assert_int_eq(load(), 0);
    WAIT_CONNECTED();
    unsigned slot = slot_of(PREFIX "kv:fresh");
    int from = owner_of(slot), to = other_than(from);
    migrating(slot, from, to);
    /* A key the old master no longer has is asked of the new one. */
    struct bus_result set = {0}, get = {0};
    P()->kv_set(CTX(), "fresh", "new", 3, 0, bus_test_record, &set);
    P()->kv_get(CTX(), "fresh", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(set.status, SBR_OK);
    ck_assert_int_eq(get.found, 1);
    ck_assert_str_eq(get.value, "new");
    ck_assert_double_ge(fake_metric("superbot_bus_redis_redirects_total", "kind=\"ask\""), 2);
    ck_assert_double_eq(fake_metric("superbot_bus_redis_local_answers_total", NULL), 0);
    migrated(slot, to);
    ck_assert_int_eq(on_node_int(to, "EXISTS %s", PREFIX "kv:fresh"), 1);
}
END_TEST

START_TEST(tryagain_then_moved)
{
    ck_assert_int_eq(load(), 0);
    WAIT_CONNECTED();
    struct bus_result first = {0};
    P()->map_set(CTX(), "m", "f1", "v1", 60000, bus_test_record, &first);
    BUS_WAIT(&first);
    unsigned slot = slot_of(PREFIX "map:{m}");
    int from = owner_of(slot), to = other_than(from);
    /* Half of the map moved: its script cannot run on either master. */
    migrating(slot, from, to);
    migrate_key(from, to, PREFIX "map:{m}");
    struct bus_result second = {0};
    P()->map_set(CTX(), "m", "f2", "v2", 60000, bus_test_record, &second);
    fake_run_for(200);
    ck_assert_int_eq(second.done, 0); /* retried meanwhile */
    ck_assert_double_ge(fake_metric("superbot_bus_redis_redirects_total", "kind=\"tryagain\""), 2);
    migrate_key(from, to, PREFIX "mapx:{m}");
    migrated(slot, to);
    BUS_WAIT(&second);
    ck_assert_int_eq(second.status, SBR_OK);
    ck_assert_int_eq(second.count, 2);
    ck_assert_double_ge(fake_metric("superbot_bus_redis_redirects_total", "kind=\"moved\""), 1);
    /* The map knows the slot's new master: no redirection any more. */
    double moved = fake_metric("superbot_bus_redis_redirects_total", "kind=\"moved\"");
    struct bus_result count = {0};
    P()->map_count(CTX(), "m", bus_test_record, &count);
    BUS_WAIT(&count);
    ck_assert_int_eq(count.count, 2);
    ck_assert_double_eq(fake_metric("superbot_bus_redis_redirects_total", "kind=\"moved\""), moved);
}
END_TEST

static long long shardnumsub(int port, const char *channel)
{
    redisReply *r = on_node(port, "PUBSUB SHARDNUMSUB %s", channel);
    long long n = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[1]->integer : -1;
    freeReplyObject(r);
    return n;
}

static void wait_shardnumsub(int port, const char *channel, long long want)
{
    long long n = -1;
    for (int i = 0; i < 150 && n != want; i++) {
        n = shardnumsub(port, channel);
        if (n != want)
            fake_run_for(20);
    }
    ck_assert_msg(n == want, "%s on %d: %lld subscribers, not %lld", channel, port, n, want);
}

/* Another worker: a child process publishing n messages then exiting. */
static pid_t worker_publish(const char *topic, int n)
{
    pid_t pid = fork();
    if (pid == 0) {
        fake_abandon();
        if (load() != 0 || !fake_run_until_fn(state_is, (void *)SBR_BUS_CONNECTED, 5000))
            _exit(2);
        int rc = SBR_OK;
        for (int i = 0; i < n && rc == SBR_OK; i++) {
            char data[32];
            snprintf(data, sizeof(data), "{\"n\":%d}", i);
            rc = P()->publish(CTX(), topic, data, strlen(data));
        }
        struct bus_result sync = {0};
        P()->kv_get(CTX(), "flush", bus_test_record, &sync);
        fake_run_until(&sync.done, 3000);
        fake_run_for(100);
        fake_reset();
        _exit(rc == SBR_OK ? 0 : 1);
    }
    return pid;
}

static int child_status(pid_t pid)
{
    int status = -1;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        fake_run_for(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int delivered_at_least(void *ud)
{
    return fake_delivered() >= (size_t)(intptr_t)ud;
}

START_TEST(sharded_fan_out_between_workers)
{
    ck_assert_int_eq(load(), 0);
    ck_assert_int_eq(P()->subscribe(CTX(), "room:a"), SBR_OK);
    WAIT_CONNECTED();
    const char *channel = PREFIX "bus:room:a";
    int owner = owner_of(slot_of(channel));
    wait_shardnumsub(owner, channel, 1);
    for (int i = 0; i < cluster.n; i++)
        if (cluster.nodes[i].port != owner)
            ck_assert_int_eq(shardnumsub(cluster.nodes[i].port, channel), 0);
    redisReply *r = on_node(owner, "PUBSUB NUMSUB %s", channel);
    ck_assert_int_eq(r->element[1]->integer, 0); /* sharded, not global */
    freeReplyObject(r);
    ck_assert_int_eq(child_status(worker_publish("room:a", 5)), 0);
    ck_assert(fake_run_until_fn(delivered_at_least, (void *)5, 3000));
    fake_run_for(100);
    ck_assert_uint_eq(fake_delivered(), 5);
    ck_assert_str_eq(fake_delivered_topic(0), "room:a");
    size_t len;
    ck_assert_str_eq(fake_delivered_data(4, &len), "{\"n\":4}");
}
END_TEST

START_TEST(a_subscription_follows_its_slot)
{
    ck_assert_int_eq(load(), 0);
    ck_assert_int_eq(P()->subscribe(CTX(), "room:x"), SBR_OK);
    WAIT_CONNECTED();
    const char *channel = PREFIX "bus:room:x";
    unsigned slot = slot_of(channel);
    int from = owner_of(slot), to = other_than(from);
    wait_shardnumsub(from, channel, 1);
    migrating(slot, from, to);
    migrated(slot, to);
    /* The old master drops the subscription; it is made on the new one. */
    wait_shardnumsub(to, channel, 1);
    ck_assert_int_eq(shardnumsub(from, channel), 0);
    ck_assert_double_ge(fake_metric("superbot_bus_redis_slot_map_refreshes_total", NULL), 2);
    ck_assert_int_eq(child_status(worker_publish("room:x", 3)), 0);
    ck_assert(fake_run_until_fn(delivered_at_least, (void *)3, 3000));
    fake_run_for(100);
    ck_assert_uint_eq(fake_delivered(), 3);
}
END_TEST

int main(void)
{
    if (!redis_cluster_available()) {
        printf("redis-server or redis-cli not installed: skipped\n");
        return 77;
    }
    Suite *s = suite_create("bus-redis-cluster");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keys_live_on_their_slots_master);
    tcase_add_test(tc, ask_while_a_slot_migrates);
    tcase_add_test(tc, tryagain_then_moved);
    tcase_add_test(tc, sharded_fan_out_between_workers);
    tcase_add_test(tc, a_subscription_follows_its_slot);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
