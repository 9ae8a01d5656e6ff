/* What only bus-redis does: the URL and its fallbacks, losing and regaining
 * Redis, AUTH and SELECT, the key prefix, and fan-out and reservations
 * between worker processes.  Each case starts its own redis-server. */
#include "bus_test.h"
#include "redis_server.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct redis_server server;
static const char *config[16];

#define P() fake_provider()
#define CTX() fake_provider_ctx()

static void setup(void)
{
    memset(&server, 0, sizeof(server));
    ck_assert_int_eq(redis_server_start(&server, 0, NULL), 0);
}

static void teardown(void)
{
    fake_reset();
    redis_server_cleanup(&server);
}

/* Load bus-redis with url and fast reconnects (extra: more key/value pairs). */
static int load(const char *url, const char *extra_key, const char *extra_value)
{
    int n = 0;
    config[n++] = "url";
    config[n++] = url;
    config[n++] = "reconnect_max_ms";
    config[n++] = "200";
    config[n++] = "connect_timeout_ms";
    config[n++] = "500";
    if (extra_key) {
        config[n++] = extra_key;
        config[n++] = extra_value;
    }
    config[n] = NULL;
    fake_real_clock(); /* the timers wait for Redis in real time */
    return fake_load("bus-redis", config);
}

static int state_is(void *ud)
{
    return fake_bus_state() == (int)(intptr_t)ud;
}

#define WAIT_STATE(s, ms)                                                                           \
    ck_assert_msg(fake_run_until_fn(state_is, (void *)(intptr_t)(s), (ms)), "state %d, not %d: %s", \
                  fake_bus_state(), (s), fake_log())

static redisContext *sync_client(void)
{
    redisContext *c = redisConnect("127.0.0.1", server.port);
    ck_assert_msg(c && !c->err, "sync client cannot connect");
    return c;
}

START_TEST(disabled_without_url)
{
    ck_assert_int_eq(load("", NULL, NULL), 0);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_LOCAL);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "Redis disabled: REALTIME_REDIS_URL is not set"));
    struct bus_result r = {0};
    ck_assert_int_eq(P()->reserve(CTX(), "k", 1000, bus_test_record, &r), SBR_OK);
    ck_assert_int_eq(r.done, 0);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.acquired, 1);
    ck_assert_int_eq(P()->publish(CTX(), "t", "x", 1), SBR_OK);
    ck_assert_int_eq(fake_bus_reports(), 1);
}
END_TEST

START_TEST(bad_url_refuses_start)
{
    ck_assert_int_ne(load("redis://localhost:notaport", NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(fake_error(), "bad url"));
    ck_assert_ptr_nonnull(strstr(fake_error(), "port"));
    ck_assert_str_eq(fake_error_key(), "url");
    ck_assert_ptr_null(P());
}
END_TEST

START_TEST(unreachable_at_start_serves_locally)
{
    char url[100];
    int port = server.port;
    redis_server_stop(&server);
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
    ck_assert_int_eq(load(url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "refused"));
    /* Kept for Redis, not refused. */
    ck_assert_int_eq(P()->publish(CTX(), "t", "x", 1), SBR_OK);
    struct bus_result set = {0}, get = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &set);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(get.found, 1);
    /* Retrying does not report (nor log at info) again and again. */
    fake_run_for(600);
    ck_assert_int_eq(fake_bus_reports(), 1);
}
END_TEST

START_TEST(host_names_resolve_without_blocking)
{
    char url[128];
    snprintf(url, sizeof(url), "redis://localhost:%d/0", server.port);
    ck_assert_int_eq(load(url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    fake_reset();
    ck_assert_int_eq(load("redis://no-such-host.invalid:6379/0", NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "no-such-host.invalid"));
    struct bus_result r = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.status, SBR_OK);
}
END_TEST

START_TEST(lost_and_recovered)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "connected"));
    struct bus_result shared = {0};
    P()->kv_set(CTX(), "k", "in-redis", 8, 0, bus_test_record, &shared);
    BUS_WAIT(&shared);

    int port = server.port;
    redis_server_stop(&server);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "connection lost"));
    /* Still answering, from in-process state. */
    struct bus_result local = {0}, get = {0};
    P()->kv_set(CTX(), "k", "local", 5, 0, bus_test_record, &local);
    P()->kv_get(CTX(), "k", bus_test_record, &get);
    BUS_WAIT(&get);
    ck_assert_int_eq(get.status, SBR_OK);
    ck_assert_str_eq(get.value, "local");

    ck_assert_int_eq(redis_server_start(&server, port, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "reconnected"));
    ck_assert_int_eq(fake_bus_reports(), 3);
    struct bus_result set = {0}, again = {0};
    P()->kv_set(CTX(), "k", "redis-again", 11, 0, bus_test_record, &set);
    BUS_WAIT(&set);
    redisContext *c = sync_client();
    redisReply *r = redisCommand(c, "GET superbot-realtime:kv:k");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "redis-again");
    freeReplyObject(r);
    redisFree(c);
    P()->kv_get(CTX(), "k", bus_test_record, &again);
    BUS_WAIT(&again);
    ck_assert_str_eq(again.value, "redis-again");
}
END_TEST

START_TEST(outage_keeps_what_the_worker_knew)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    /* A key another worker wrote, read once while Redis is up. */
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "SET superbot-realtime:kv:channels:42 {\"server_id\":\"7\"}"));
    redisFree(c);
    struct bus_result read = {0}, mine = {0}, res = {0}, field = {0}, count = {0};
    P()->kv_get(CTX(), "channels:42", bus_test_record, &read);
    P()->kv_set(CTX(), "mine", "v", 1, 60000, bus_test_record, &mine);
    P()->reserve(CTX(), "slot", 30000, bus_test_record, &res);
    P()->incr(CTX(), "joins", 3, 60000, bus_test_record, &count);
    P()->map_set(CTX(), "presence:7", "u1", "online", 60000, bus_test_record, &field);
    BUS_WAIT(&field);
    ck_assert_int_eq(read.found, 1);
    ck_assert_int_eq(res.acquired, 1);
    ck_assert_int_eq(count.count, 3);

    redis_server_stop(&server);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    struct bus_result r1 = {0}, r2 = {0}, r3 = {0}, r4 = {0}, r5 = {0};
    P()->kv_get(CTX(), "channels:42", bus_test_record, &r1);
    P()->kv_get(CTX(), "mine", bus_test_record, &r2);
    P()->reserve(CTX(), "slot", 30000, bus_test_record, &r3);
    P()->incr(CTX(), "joins", 1, 60000, bus_test_record, &r5);
    P()->map_count(CTX(), "presence:7", bus_test_record, &r4);
    BUS_WAIT(&r4);
    /* The counter goes on from what Redis last said. */
    ck_assert_int_eq(r5.status, SBR_OK);
    ck_assert_int_eq(r5.count, 4);
    ck_assert_int_eq(r1.found, 1);
    ck_assert_str_eq(r1.value, "{\"server_id\":\"7\"}");
    ck_assert_int_eq(r2.found, 1);
    ck_assert_int_eq(r3.acquired, 0);
    ck_assert_int_gt(r3.remaining_ms, 25000);
    ck_assert_int_eq(r4.count, 1);
}
END_TEST

START_TEST(no_answer_counts_as_down)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    kill(server.pid, SIGSTOP);
    struct bus_result r = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r);
    /* connect_timeout_ms is 500: the command is answered locally after it. */
    ck_assert_msg(fake_run_until(&r.done, 3000), "no reply while Redis hangs");
    ck_assert_int_eq(r.status, SBR_OK);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_DOWN);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "no answer"));
    kill(server.pid, SIGCONT);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
}
END_TEST

static void sync_command(const char *command)
{
    redisContext *c = sync_client();
    redisReply *r = redisCommand(c, command);
    ck_assert_msg(r && r->type != REDIS_REPLY_ERROR, "%s: %s", command, r ? r->str : "no reply");
    freeReplyObject(r);
    redisFree(c);
}

START_TEST(replica_after_failover_counts_as_down)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    /* Our Redis becomes a read-only replica (of a master that is not there). */
    sync_command("REPLICAOF 127.0.0.1 1");
    struct bus_result r = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r);
    BUS_WAIT(&r);
    ck_assert_int_eq(r.status, SBR_OK);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_DOWN);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "READONLY"));
    /* Reconnecting to a replica is refused, not flapping up and down. */
    fake_run_for(700);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_DOWN);
    ck_assert_int_eq(fake_bus_reports(), 2);
    ck_assert_ptr_nonnull(strstr(fake_log(), "read-only replica"));
    sync_command("REPLICAOF NO ONE");
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
}
END_TEST

START_TEST(refused_commands_are_answered_and_logged_once)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    sync_command("CONFIG SET maxmemory-policy noeviction");
    sync_command("CONFIG SET maxmemory 1");
    struct bus_result r[5];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 5; i++)
        P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r[i]);
    BUS_WAIT(&r[4]);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(r[i].status, SBR_OK);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_CONNECTED);
    const char *first = strstr(fake_log(), "Redis refused");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_null(strstr(first + 1, "Redis refused"));
    sync_command("CONFIG SET maxmemory 0");
}
END_TEST

START_TEST(auth_password)
{
    redis_server_cleanup(&server);
    ck_assert_int_eq(redis_server_start(&server, 0, "s3cret"), 0);
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    ck_assert_ptr_null(strstr(fake_log(), "s3cret"));
    fake_reset();

    char url[128];
    snprintf(url, sizeof(url), "redis://default:s3cret@127.0.0.1:%d/0", server.port);
    ck_assert_int_eq(load(url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    fake_reset();

    /* An ACL user of its own, on its key prefix only. */
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "AUTH s3cret"));
    redisReply *r = redisCommand(c, "ACL SETUSER gateway on >gw-pass ~superbot-realtime:* &superbot-realtime:* +@all");
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
    snprintf(url, sizeof(url), "redis://gateway:gw-pass@127.0.0.1:%d/0", server.port);
    ck_assert_int_eq(load(url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    struct bus_result res = {0};
    P()->map_set(CTX(), "m", "f", "v", 1000, bus_test_record, &res);
    BUS_WAIT(&res);
    ck_assert_int_eq(res.status, SBR_OK);
    ck_assert_int_eq(res.count, 1);
    fake_reset();

    snprintf(url, sizeof(url), "redis://:wrong@127.0.0.1:%d/0", server.port);
    ck_assert_int_eq(load(url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_msg(strstr(fake_bus_detail(), "AUTH failed"), "%s", fake_bus_detail());
    ck_assert_ptr_null(strstr(fake_log(), "wrong@"));
}
END_TEST

START_TEST(unix_socket)
{
    redis_server_cleanup(&server);
    server.unix_socket = 1;
    ck_assert_int_eq(redis_server_start(&server, 0, NULL), 0);
    ck_assert_int_eq(load(server.unix_url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    struct bus_result r = {0};
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r);
    BUS_WAIT(&r);
    redisContext *c = sync_client();
    freeReplyObject(redisCommand(c, "SELECT 2"));
    redisReply *got = redisCommand(c, "GET superbot-realtime:kv:k");
    ck_assert_int_eq(got->type, REDIS_REPLY_STRING);
    freeReplyObject(got);
    redisFree(c);
}
END_TEST

START_TEST(select_db_and_key_prefix)
{
    char url[128];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", server.port);
    ck_assert_int_eq(load(url, "key_prefix", "deploy-a:"), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    struct bus_result a = {0}, b = {0};
    P()->kv_set(CTX(), "token:1", "x", 1, 60000, bus_test_record, &a);
    P()->map_set(CTX(), "presence:7", "u1", "online", 60000, bus_test_record, &b);
    BUS_WAIT(&b);
    redisContext *c = sync_client();
    redisReply *r = redisCommand(c, "SELECT 3");
    freeReplyObject(r);
    r = redisCommand(c, "EXISTS deploy-a:kv:token:1 deploy-a:map:presence:7 deploy-a:mapx:presence:7");
    ck_assert_int_eq(r->integer, 3);
    freeReplyObject(r);
    r = redisCommand(c, "PTTL deploy-a:map:presence:7");
    ck_assert_int_gt(r->integer, 0);
    freeReplyObject(r);
    r = redisCommand(c, "SELECT 0");
    freeReplyObject(r);
    r = redisCommand(c, "DBSIZE");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    redisFree(c);
}
END_TEST

START_TEST(map_keys_leave_with_their_last_field)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    struct bus_result a = {0};
    P()->map_set(CTX(), "m", "f", "v", 100, bus_test_record, &a);
    BUS_WAIT(&a);
    redisContext *c = sync_client();
    long long left = -1;
    for (int i = 0; i < 60 && left != 0; i++) {
        redisReply *r = redisCommand(c, "EXISTS superbot-realtime:map:m superbot-realtime:mapx:m");
        left = r->integer;
        freeReplyObject(r);
        if (left)
            fake_run_for(50);
    }
    redisFree(c);
    ck_assert_int_eq(left, 0);
}
END_TEST

static long long numsub(const char *channel)
{
    redisContext *c = sync_client();
    redisReply *r = redisCommand(c, "PUBSUB NUMSUB %s", channel);
    long long n = r->type == REDIS_REPLY_ARRAY && r->elements == 2 ? r->element[1]->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void wait_numsub(const char *channel, long long want)
{
    long long n = -1;
    for (int i = 0; i < 100 && n != want; i++) {
        n = numsub(channel);
        if (n != want)
            fake_run_for(20);
    }
    ck_assert_int_eq(n, want);
}

/* A second worker: a child process publishing then exiting. */
static pid_t worker_publish(const char *topic, const char *data)
{
    pid_t pid = fork();
    if (pid == 0) {
        fake_abandon();
        if (load(server.url, NULL, NULL) != 0 || !fake_run_until_fn(state_is, (void *)SBR_BUS_CONNECTED, 3000))
            _exit(2);
        int rc = P()->publish(CTX(), topic, data, strlen(data));
        struct bus_result sync = {0};
        P()->kv_get(CTX(), "flush", bus_test_record, &sync);
        fake_run_until(&sync.done, 3000);
        fake_reset();
        _exit(rc == SBR_OK ? 0 : 1);
    }
    return pid;
}

/* Wait for a child while our own loop keeps running, as a worker's would. */
static int child_status(pid_t pid)
{
    int status = -1;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (fake_provider())
            fake_run_for(10);
        else
            usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static int delivered_at_least(void *ud)
{
    return fake_delivered() >= (size_t)(intptr_t)ud;
}

START_TEST(fan_out_between_workers)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    ck_assert_int_eq(P()->subscribe(CTX(), "room:a"), SBR_OK);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    ck_assert_int_eq(P()->subscribe(CTX(), "room:b"), SBR_OK);
    wait_numsub("superbot-realtime:bus:room:a", 1);
    wait_numsub("superbot-realtime:bus:room:b", 1);
    /* Our own publish never comes back to us. */
    ck_assert_int_eq(P()->publish(CTX(), "room:a", "mine", 4), SBR_OK);
    pid_t child = worker_publish("room:a", "{\"hello\":1}");
    ck_assert_int_eq(child_status(child), 0);
    child = worker_publish("room:unwatched", "nope");
    ck_assert_int_eq(child_status(child), 0);
    child = worker_publish("room:b", "");
    ck_assert_int_eq(child_status(child), 0);
    ck_assert(fake_run_until_fn(delivered_at_least, (void *)2, 3000));
    fake_run_for(100);
    ck_assert_uint_eq(fake_delivered(), 2);
    size_t len;
    ck_assert_str_eq(fake_delivered_topic(0), "room:a");
    ck_assert_str_eq(fake_delivered_data(0, &len), "{\"hello\":1}");
    ck_assert_uint_eq(len, 11);
    ck_assert_str_eq(fake_delivered_topic(1), "room:b");
    ck_assert_str_eq(fake_delivered_data(1, &len), "");
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(unsubscribe_and_back_in_flight)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    const char *ch = "superbot-realtime:bus:room:x";
    P()->subscribe(CTX(), "room:x");
    wait_numsub(ch, 1);
    P()->unsubscribe(CTX(), "room:x");
    wait_numsub(ch, 0);
    /* Toggled faster than Redis answers: the last word wins. */
    for (int i = 0; i < 5; i++) {
        P()->subscribe(CTX(), "room:x");
        P()->unsubscribe(CTX(), "room:x");
    }
    P()->subscribe(CTX(), "room:x");
    fake_run_for(100);
    wait_numsub(ch, 1);
    pid_t child = worker_publish("room:x", "still here");
    ck_assert_int_eq(child_status(child), 0);
    ck_assert(fake_run_until_fn(delivered_at_least, (void *)1, 3000));
    size_t len;
    ck_assert_str_eq(fake_delivered_data(0, &len), "still here");
}
END_TEST

START_TEST(subscriptions_survive_reconnect)
{
    ck_assert_int_eq(load(server.url, NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    P()->subscribe(CTX(), "room:r");
    int port = server.port;
    redis_server_stop(&server);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_int_eq(P()->subscribe(CTX(), "room:while-down"), SBR_OK);
    ck_assert_int_eq(redis_server_start(&server, port, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    wait_numsub("superbot-realtime:bus:room:r", 1);
    wait_numsub("superbot-realtime:bus:room:while-down", 1);
}
END_TEST

#define RESERVE_WORKERS 3
#define RESERVE_TRIES 20

START_TEST(reserve_across_workers)
{
    pid_t kids[RESERVE_WORKERS];
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    for (int w = 0; w < RESERVE_WORKERS; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            close(go[1]);
            char id[16];
            snprintf(id, sizeof(id), "FakeWorkerR%d", w);
            fake_set_worker_id(id);
            if (load(server.url, NULL, NULL) != 0 ||
                !fake_run_until_fn(state_is, (void *)SBR_BUS_CONNECTED, 3000))
                _exit(100);
            char b;
            /* Everyone fires at once when the parent closes the pipe. */
            if (read(go[0], &b, 1) != 0)
                _exit(101);
            struct bus_result r[RESERVE_TRIES];
            memset(r, 0, sizeof(r));
            for (int i = 0; i < RESERVE_TRIES; i++)
                P()->reserve(CTX(), "slowmode:c1:u1", 10000, bus_test_record, &r[i]);
            if (!fake_run_until(&r[RESERVE_TRIES - 1].done, 3000))
                _exit(102);
            int acquired = 0;
            for (int i = 0; i < RESERVE_TRIES; i++)
                acquired += r[i].acquired;
            fake_reset();
            _exit(acquired);
        }
    }
    close(go[0]);
    /* Let every worker connect before the start signal. */
    redisContext *c = sync_client();
    for (int i = 0; i < 300; i++) {
        redisReply *r = redisCommand(c, "CLIENT LIST");
        int clients = 0;
        for (const char *p = r->str; (p = strstr(p, "id=")); p++)
            clients++;
        freeReplyObject(r);
        if (clients >= 2 * RESERVE_WORKERS + 1)
            break;
        usleep(10000);
    }
    redisFree(c);
    close(go[1]);
    int total = 0;
    for (int w = 0; w < RESERVE_WORKERS; w++) {
        int got = child_status(kids[w]);
        ck_assert_int_lt(got, 100);
        total += got;
    }
    ck_assert_int_eq(total, 1);
}
END_TEST

#define INCR_WORKERS 3
#define INCR_TRIES 20

/* Three workers count on one key at once: no increment lost, one window. */
START_TEST(incr_across_workers)
{
    pid_t kids[INCR_WORKERS];
    for (int w = 0; w < INCR_WORKERS; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            if (load(server.url, NULL, NULL) != 0 || !fake_run_until_fn(state_is, (void *)SBR_BUS_CONNECTED, 3000))
                _exit(100);
            struct bus_result r[INCR_TRIES];
            memset(r, 0, sizeof(r));
            for (int i = 0; i < INCR_TRIES; i++)
                P()->incr(CTX(), "rate:u1", 1, 60000, bus_test_record, &r[i]);
            if (!fake_run_until(&r[INCR_TRIES - 1].done, 3000))
                _exit(102);
            int ok = 0;
            for (int i = 0; i < INCR_TRIES; i++)
                ok += r[i].status == SBR_OK && r[i].count >= 1 && r[i].count <= INCR_WORKERS * INCR_TRIES &&
                      (i == 0 || r[i].count > r[i - 1].count);
            fake_reset();
            _exit(ok);
        }
    }
    for (int w = 0; w < INCR_WORKERS; w++)
        ck_assert_int_eq(child_status(kids[w]), INCR_TRIES);
    redisContext *c = sync_client();
    redisReply *v = redisCommand(c, "GET superbot-realtime:kv:rate:u1");
    redisReply *t = redisCommand(c, "PTTL superbot-realtime:kv:rate:u1");
    ck_assert_str_eq(v->str, "60");
    ck_assert_int_gt(t->integer, 50000);
    ck_assert_int_le(t->integer, 60000);
    freeReplyObject(v);
    freeReplyObject(t);
    redisFree(c);
}
END_TEST

int main(void)
{
    if (!redis_server_available()) {
        fprintf(stderr, "SKIP: redis-server is not installed (apt-get install redis-server)\n");
        return 77;
    }
    Suite *s = suite_create("bus-redis");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, disabled_without_url);
    tcase_add_test(tc, bad_url_refuses_start);
    tcase_add_test(tc, unreachable_at_start_serves_locally);
    tcase_add_test(tc, host_names_resolve_without_blocking);
    tcase_add_test(tc, lost_and_recovered);
    tcase_add_test(tc, outage_keeps_what_the_worker_knew);
    tcase_add_test(tc, no_answer_counts_as_down);
    tcase_add_test(tc, replica_after_failover_counts_as_down);
    tcase_add_test(tc, refused_commands_are_answered_and_logged_once);
    tcase_add_test(tc, auth_password);
    tcase_add_test(tc, unix_socket);
    tcase_add_test(tc, select_db_and_key_prefix);
    tcase_add_test(tc, map_keys_leave_with_their_last_field);
    tcase_add_test(tc, fan_out_between_workers);
    tcase_add_test(tc, unsubscribe_and_back_in_flight);
    tcase_add_test(tc, subscriptions_survive_reconnect);
    tcase_add_test(tc, reserve_across_workers);
    tcase_add_test(tc, incr_across_workers);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
