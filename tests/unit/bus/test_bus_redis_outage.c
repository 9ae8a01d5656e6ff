/* bus-redis across Redis outages, with a real redis-server and a second
 * worker (a child process) receiving: what is published while Redis does
 * not answer is delivered once, in order, before newer traffic; a pause
 * shorter than connect_timeout_ms changes nothing; a worker that comes back
 * later catches up from the recent stream; the bounds drop the oldest,
 * counted and logged once; state changed in-process is written back. */
#include "bus_test.h"
#include "redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct redis_server server;

#define P() fake_provider()
#define CTX() fake_provider_ctx()
#define TOPIC "room:a"
#define CHANNEL "superbot-realtime:bus:room:a"

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

/* bus-redis with fast reconnects and a 500 ms answer timeout; extra: one
 * more key and value, or NULL. */
static int load(const char *extra_key, const char *extra_value)
{
    static const char *config[12];
    int n = 0;
    config[n++] = "url";
    config[n++] = server.url;
    config[n++] = "reconnect_max_ms";
    config[n++] = "200";
    config[n++] = "connect_timeout_ms";
    config[n++] = "500";
    if (extra_key) {
        config[n++] = extra_key;
        config[n++] = extra_value;
    }
    config[n] = NULL;
    fake_real_clock();
    return fake_load("bus-redis", config);
}

static int state_is(void *ud)
{
    return fake_bus_state() == (int)(intptr_t)ud;
}

#define WAIT_STATE(s, ms)                                                                           \
    ck_assert_msg(fake_run_until_fn(state_is, (void *)(intptr_t)(s), (ms)), "state %d, not %d: %s", \
                  fake_bus_state(), (s), fake_log())

static void publish(const char *text)
{
    ck_assert_int_eq(P()->publish(CTX(), TOPIC, text, strlen(text)), SBR_OK);
}

static redisReply *sync_command(const char *fmt, const char *arg)
{
    redisContext *c = redisConnect("127.0.0.1", server.port);
    ck_assert_msg(c && !c->err, "sync client cannot connect");
    redisReply *r = arg ? redisCommand(c, fmt, arg) : redisCommand(c, fmt);
    redisFree(c);
    ck_assert_ptr_nonnull(r);
    return r;
}

static long long sync_integer(const char *fmt, const char *arg)
{
    redisReply *r = sync_command(fmt, arg);
    long long n = r->type == REDIS_REPLY_INTEGER ? r->integer : -100;
    freeReplyObject(r);
    return n;
}

static int delivered_at_least(void *ud)
{
    return fake_delivered() >= (size_t)(intptr_t)ud;
}

/* A second worker: subscribes to TOPIC, writes "R" on the pipe once
 * connected, then collects up to `want` deliveries (and any extra within
 * 300 ms) and writes them comma-separated. */
struct receiver {
    pid_t pid;
    int fd;
};

static void receiver_run(int fd, size_t want)
{
    fake_abandon();
    if (load(NULL, NULL) != 0 || P()->subscribe(CTX(), TOPIC) != SBR_OK ||
        !fake_run_until_fn(state_is, (void *)SBR_BUS_CONNECTED, 5000))
        _exit(2);
    if (write(fd, "R", 1) != 1)
        _exit(3);
    fake_run_until_fn(delivered_at_least, (void *)(intptr_t)want, 15000);
    fake_run_for(300);
    char out[4096] = "";
    for (size_t i = 0; i < fake_delivered(); i++) {
        size_t len;
        const char *data = fake_delivered_data(i, &len);
        if (i)
            strncat(out, ",", sizeof(out) - strlen(out) - 1);
        strncat(out, data, sizeof(out) - strlen(out) - 1);
    }
    ssize_t ignored = write(fd, out, strlen(out));
    (void)ignored;
    fake_reset();
    _exit(0);
}

static struct receiver receiver_start(size_t want)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    struct receiver r = {fork(), fds[0]};
    if (r.pid == 0) {
        close(fds[0]);
        receiver_run(fds[1], want);
    }
    close(fds[1]);
    fcntl(r.fd, F_SETFL, O_NONBLOCK);
    return r;
}

/* Read from the receiver while this worker's loop keeps running. */
static void receiver_read(struct receiver *r, char *buf, size_t size, int until_eof)
{
    size_t got = 0;
    for (int i = 0; i < 2000; i++) {
        ssize_t n = read(r->fd, buf + got, size - 1 - got);
        if (n > 0)
            got += (size_t)n;
        if ((!until_eof && got) || n == 0)
            break;
        if (fake_provider())
            fake_run_for(10);
        else
            usleep(10000);
    }
    buf[got] = '\0';
}

static const char *receiver_result(struct receiver *r)
{
    static char buf[4096];
    receiver_read(r, buf, sizeof(buf), 1);
    close(r->fd);
    int status;
    waitpid(r->pid, &status, 0);
    return buf;
}

static void receiver_ready(struct receiver *r)
{
    char buf[4];
    receiver_read(r, buf, sizeof(buf), 0);
    ck_assert_str_eq(buf, "R");
    for (int i = 0; i < 100; i++) {
        redisReply *n = sync_command("PUBSUB NUMSUB " CHANNEL, NULL);
        long long subs = n->elements == 2 ? n->element[1]->integer : 0;
        freeReplyObject(n);
        if (subs >= 1)
            return;
        fake_run_for(20);
    }
    ck_abort_msg("the receiver never subscribed");
}

START_TEST(silent_redis_loses_nothing_and_reorders_nothing)
{
    ck_assert_int_eq(load(NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    struct receiver r = receiver_start(8);
    receiver_ready(&r);
    publish("1");
    publish("2");
    fake_run_for(100);
    /* Redis stops answering: 3 4 5 are written to it, unanswered. */
    kill(server.pid, SIGSTOP);
    publish("3");
    publish("4");
    publish("5");
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    ck_assert_ptr_nonnull(strstr(fake_bus_detail(), "no answer"));
    publish("6");
    publish("7");
    ck_assert_int_eq(fake_metric("superbot_bus_outage_buffered_messages", NULL), 5);
    /* Back: Redis runs 3 4 5 from the old link, then they come again with
     * 6 7 on the new one, before 8. */
    kill(server.pid, SIGCONT);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    publish("8");
    ck_assert_str_eq(receiver_result(&r), "1,2,3,4,5,6,7,8");
    ck_assert_ptr_nonnull(strstr(fake_log(), "publishing the 5 message(s) kept while Redis was away"));
    ck_assert(fake_metric("superbot_bus_dropped_total", NULL) <= 0);
}
END_TEST

START_TEST(pause_shorter_than_the_timeout_changes_nothing)
{
    ck_assert_int_eq(load(NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    int reports = fake_bus_reports();
    struct receiver r = receiver_start(5);
    receiver_ready(&r);
    publish("1");
    kill(server.pid, SIGSTOP);
    publish("2");
    publish("3");
    fake_run_for(250); /* connect_timeout_ms is 500 */
    kill(server.pid, SIGCONT);
    publish("4");
    publish("5");
    ck_assert_str_eq(receiver_result(&r), "1,2,3,4,5");
    ck_assert_int_eq(fake_bus_reports(), reports);
    ck_assert_int_eq(fake_bus_state(), SBR_BUS_CONNECTED);
}
END_TEST

START_TEST(a_worker_back_later_catches_up)
{
    ck_assert_int_eq(load(NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    int port = server.port;
    redis_server_stop(&server);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    publish("x1");
    publish("x2");
    /* Redis comes back empty; this worker publishes x1 x2 as soon as it
     * is back, before the other worker is subscribed again. */
    ck_assert_int_eq(redis_server_start(&server, port, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    fake_run_for(100);
    ck_assert_int_eq(sync_integer("XLEN superbot-realtime:bus:recent", NULL), 2);
    ck_assert_int_gt(sync_integer("PTTL superbot-realtime:bus:recent", NULL), 1000);
    struct receiver r = receiver_start(3);
    receiver_ready(&r);
    publish("x3");
    ck_assert_str_eq(receiver_result(&r), "x1,x2,x3");
}
END_TEST

START_TEST(bounds_drop_the_oldest_counted_and_logged_once)
{
    ck_assert_int_eq(load("outage_buffer_max", "3"), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    int port = server.port;
    redis_server_stop(&server);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    const char *msgs[] = {"m1", "m2", "m3", "m4", "m5"};
    for (int i = 0; i < 5; i++)
        publish(msgs[i]);
    ck_assert_int_eq(fake_metric("superbot_bus_dropped_total", NULL), 2);
    ck_assert_ptr_null(strstr(fake_log(), "dropped"));
    ck_assert_int_eq(redis_server_start(&server, port, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    fake_run_for(100);
    const char *said = "2 published message(s) dropped while Redis was away";
    const char *line = strstr(fake_log(), said);
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_null(strstr(line + strlen(said), "dropped"));
    /* What was kept went out: the three newest, in order. */
    redisReply *rr = sync_command("XRANGE superbot-realtime:bus:recent - +", NULL);
    ck_assert_uint_eq(rr->elements, 3);
    for (size_t i = 0; i < 3; i++) {
        const redisReply *fields = rr->element[i]->element[1];
        const redisReply *env = fields->element[3];
        ck_assert_str_eq(env->str + 32, msgs[i + 2]);
    }
    freeReplyObject(rr);
}
END_TEST

START_TEST(state_changed_while_away_is_written_back)
{
    ck_assert_int_eq(load(NULL, NULL), 0);
    WAIT_STATE(SBR_BUS_CONNECTED, 3000);
    freeReplyObject(sync_command("SET superbot-realtime:kv:gone x", NULL));
    freeReplyObject(sync_command("SET superbot-realtime:kv:held 1 PX 60000", NULL));
    struct bus_result before = {0};
    P()->map_set(CTX(), "m", "f1", "v1", 60000, bus_test_record, &before);
    BUS_WAIT(&before);
    kill(server.pid, SIGSTOP);
    struct bus_result r[6];
    memset(r, 0, sizeof(r));
    P()->kv_set(CTX(), "k", "v", 1, 0, bus_test_record, &r[0]);
    WAIT_STATE(SBR_BUS_DOWN, 3000);
    P()->map_del(CTX(), "m", "f1", bus_test_record, &r[1]);
    P()->map_set(CTX(), "m", "f2", "v2", 60000, bus_test_record, &r[2]);
    P()->reserve(CTX(), "slot", 30000, bus_test_record, &r[3]);
    P()->reserve(CTX(), "held", 5000, bus_test_record, &r[4]);
    P()->kv_del(CTX(), "gone", bus_test_record, &r[5]);
    BUS_WAIT(&r[5]);
    ck_assert_int_eq(r[3].acquired, 1);
    kill(server.pid, SIGCONT);
    WAIT_STATE(SBR_BUS_CONNECTED, 5000);
    fake_run_for(200);
    ck_assert_ptr_nonnull(strstr(fake_log(), "wrote back 6 state change(s)"));
    ck_assert_int_eq(sync_integer("HEXISTS superbot-realtime:map:m f1", NULL), 0);
    redisReply *v = sync_command("HGET superbot-realtime:map:m f2", NULL);
    ck_assert_int_eq(v->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(v->str, "v2");
    freeReplyObject(v);
    ck_assert_int_eq(sync_integer("ZSCORE superbot-realtime:mapx:m f2", NULL), -100); /* a deadline, as text */
    v = sync_command("GET superbot-realtime:kv:k", NULL);
    ck_assert_str_eq(v->str, "v");
    freeReplyObject(v);
    long long slot = sync_integer("PTTL superbot-realtime:kv:slot", NULL);
    ck_assert_msg(slot > 20000 && slot <= 30000, "slot PTTL %lld", slot);
    /* A reservation is never shortened by a write-back. */
    ck_assert_int_gt(sync_integer("PTTL superbot-realtime:kv:held", NULL), 50000);
    ck_assert_int_eq(sync_integer("EXISTS superbot-realtime:kv:gone", NULL), 0);
    /* A second worker reserving the slot now is refused: slow mode spans the outage. */
    struct bus_result again = {0};
    P()->reserve(CTX(), "slot", 30000, bus_test_record, &again);
    BUS_WAIT(&again);
    ck_assert_int_eq(again.acquired, 0);
}
END_TEST

int main(void)
{
    if (!redis_server_available()) {
        fprintf(stderr, "SKIP: redis-server is not installed (apt-get install redis-server)\n");
        return 77;
    }
    Suite *s = suite_create("bus-redis-outage");
    TCase *tc = tcase_create("outage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 40);
    tcase_add_test(tc, silent_redis_loses_nothing_and_reorders_nothing);
    tcase_add_test(tc, pause_shorter_than_the_timeout_changes_nothing);
    tcase_add_test(tc, a_worker_back_later_catches_up);
    tcase_add_test(tc, bounds_drop_the_oldest_counted_and_logged_once);
    tcase_add_test(tc, state_changed_while_away_is_written_back);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
