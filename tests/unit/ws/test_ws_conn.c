/* core/ws/ws_conn.c: the write path of a taken-over WebSocket, against a
 * real loopback connection: frames by reference written at the end of the
 * turn, everything a turn queued for the socket in one write, order kept
 * when a turn queues several (by reference and copied, past what one
 * writev() takes), a full socket keeping the rest, closing and a vanished
 * peer, and every reference released once whatever happens. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/http.h>
#include "ws/ws_conn.h"
#include "ws/ws_handshake.h"
#include "ws/ws_output.h"
#include "metrics.h"

static struct event_base *base;
static struct evhttp *http;
static int port;
static int client = -1;
static struct ws_conn *server_ws;
static int closes, releases;

static void on_message(void *userdata, int binary, const uint8_t *data, size_t len)
{
    (void)userdata;
    (void)binary;
    (void)data;
    (void)len;
}

static void on_close(void *userdata, unsigned code, const char *why)
{
    (void)userdata;
    (void)code;
    (void)why;
    closes++;
    server_ws = NULL;
}

static const struct ws_callbacks callbacks = {on_message, on_close};

static void release(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    ck_assert_ptr_eq(arg, &releases);
    releases++;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *why = NULL;
    const char *key = ws_handshake_check(req, &why);
    ck_assert_msg(key != NULL, "handshake refused: %s", why ? why : "?");
    char copy[64];
    snprintf(copy, sizeof(copy), "%s", key);
    server_ws = ws_conn_takeover(req, copy, 1 << 20, &callbacks, NULL);
    ck_assert_ptr_nonnull(server_ws);
}

/* Run the loop's ready work, a few turns. */
static void pump(void)
{
    for (int i = 0; i < 8; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Read exactly n bytes from the client socket, running the server's loop
 * meanwhile (a full socket is written again only from the loop). */
static void client_read(void *buf, size_t n)
{
    size_t got = 0;
    for (int spins = 0; got < n && spins < 20000; spins++) {
        pump();
        struct pollfd p = {.fd = client, .events = POLLIN};
        if (poll(&p, 1, 1) <= 0)
            continue;
        ssize_t r = read(client, (char *)buf + got, n - got);
        ck_assert_msg(r > 0, "client read: %zd (%s)", r, r < 0 ? strerror(errno) : "eof");
        got += (size_t)r;
    }
    ck_assert_uint_eq(got, n);
}

static void setup(void)
{
    closes = releases = 0;
    base = event_base_new();
    http = evhttp_new(base);
    ck_assert_ptr_nonnull(http);
    evhttp_set_gencb(http, on_request, NULL);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ck_assert_ptr_nonnull(bound);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    ck_assert_int_eq(getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin, &len), 0);
    port = ntohs(sin.sin_port);

    client = socket(AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(client, (struct sockaddr *)&sin, sizeof(sin)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     port);
    ck_assert_int_eq(write(client, req, (size_t)n), n);
    for (int i = 0; i < 2000 && !server_ws; i++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        usleep(500);
    }
    ck_assert_ptr_nonnull(server_ws);
    /* The 101, written at the end of the turn like everything else. */
    char head[512];
    size_t got = 0;
    while (got < 4 || memcmp(head + got - 4, "\r\n\r\n", 4) != 0) {
        ck_assert_uint_lt(got, sizeof(head));
        client_read(head + got, 1);
        got++;
    }
    ck_assert_msg(strncmp(head, "HTTP/1.1 101", 12) == 0, "%.*s", (int)got, head);
}

static void teardown(void)
{
    ws_conn_free_all();
    if (client >= 0)
        close(client);
    client = -1;
    server_ws = NULL;
    evhttp_free(http);
    event_base_free(base);
}

static const uint8_t frame_a[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
static const uint8_t frame_c[] = {0x81, 0x03, 'c', 'c', 'c'};

START_TEST(one_frame_by_reference_at_end_of_turn)
{
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ck_assert_uint_eq(ws_conn_pending(server_ws), sizeof(frame_a));
    ck_assert_int_eq(releases, 0);
    uint8_t got[sizeof(frame_a)];
    client_read(got, sizeof(got));
    ck_assert_mem_eq(got, frame_a, sizeof(frame_a));
    ck_assert_int_eq(releases, 1);
    ck_assert_uint_eq(ws_conn_pending(server_ws), 0);
    /* The next turn's frame goes the same way. */
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    client_read(got, sizeof(frame_c));
    ck_assert_mem_eq(got, frame_c, sizeof(frame_c));
    ck_assert_int_eq(releases, 2);
}
END_TEST

/* Writes are coalesced per loop turn: Nagle's algorithm would only hold a
 * second small write back until the client's delayed ACK. */
START_TEST(the_socket_taken_over_sends_without_delay)
{
    int on = 0;
    socklen_t len = sizeof(on);
    ck_assert_int_eq(getsockopt(event_get_fd(&server_ws->ev), IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    ck_assert_int_ne(on, 0);
}
END_TEST

START_TEST(frames_of_one_turn_keep_their_order)
{
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ck_assert_int_eq(ws_conn_send(server_ws, 0, "b", 1), 0);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    ck_assert_uint_eq(ws_conn_pending(server_ws), sizeof(frame_a) + 3 + sizeof(frame_c));
    uint8_t got[sizeof(frame_a) + 3 + sizeof(frame_c)];
    client_read(got, sizeof(got));
    ck_assert_mem_eq(got, frame_a, sizeof(frame_a));
    const uint8_t b[] = {0x81, 0x01, 'b'};
    ck_assert_mem_eq(got + sizeof(frame_a), b, 3);
    ck_assert_mem_eq(got + sizeof(frame_a) + 3, frame_c, sizeof(frame_c));
    ck_assert_int_eq(releases, 2);
}
END_TEST

START_TEST(a_turn_goes_out_in_one_write)
{
    uint64_t writes = core_metrics.ws_writes;
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(ws_conn_send_ref(server_ws, i % 2 ? frame_c : frame_a, i % 2 ? sizeof(frame_c) : sizeof(frame_a),
                                          release, &releases), 0);
    ck_assert_uint_eq(ws_conn_pending(server_ws), 25 * (sizeof(frame_a) + sizeof(frame_c)));
    uint8_t got[25 * (sizeof(frame_a) + sizeof(frame_c))];
    client_read(got, sizeof(got));
    for (int i = 0, at = 0; i < 50; i++) {
        const uint8_t *want = i % 2 ? frame_c : frame_a;
        size_t len = i % 2 ? sizeof(frame_c) : sizeof(frame_a);
        ck_assert_mem_eq(got + at, want, len);
        at += (int)len;
    }
    ck_assert_int_eq(releases, 50);
    ck_assert_uint_eq(core_metrics.ws_writes - writes, 1);
    ck_assert_uint_eq(ws_conn_pending(server_ws), 0);
}
END_TEST

/* Three-byte text frames numbered by their payload. */
static uint8_t numbered[3000][5];

START_TEST(more_frames_than_one_writev_takes_keep_their_order)
{
    size_t n = sizeof(numbered) / sizeof(numbered[0]);
    uint64_t writes = core_metrics.ws_writes;
    for (size_t i = 0; i < n; i++) {
        uint8_t frame[5] = {0x82, 0x03, (uint8_t)(i >> 8), (uint8_t)i, 0x5a};
        memcpy(numbered[i], frame, sizeof(frame));
        ck_assert_int_eq(ws_conn_send_ref(server_ws, numbered[i], sizeof(numbered[i]), release, &releases), 0);
    }
    uint8_t *got = malloc(sizeof(numbered));
    ck_assert_ptr_nonnull(got);
    client_read(got, sizeof(numbered));
    ck_assert_mem_eq(got, numbered, sizeof(numbered));
    ck_assert_int_eq(releases, (int)n);
    /* One writev() per 1024 frames (IOV_MAX). */
    ck_assert_uint_eq(core_metrics.ws_writes - writes, (n + 1023) / 1024);
    free(got);
}
END_TEST

START_TEST(a_copied_frame_first_keeps_the_order)
{
    ck_assert_int_eq(ws_conn_send(server_ws, 0, "b", 1), 0);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    uint8_t got[3 + sizeof(frame_a) + sizeof(frame_c)];
    client_read(got, sizeof(got));
    const uint8_t b[] = {0x81, 0x01, 'b'};
    ck_assert_mem_eq(got, b, 3);
    ck_assert_mem_eq(got + 3, frame_a, sizeof(frame_a));
    ck_assert_mem_eq(got + 3 + sizeof(frame_a), frame_c, sizeof(frame_c));
    ck_assert_int_eq(releases, 2);
}
END_TEST

/* A binary frame of n bytes in all, its payload a pattern from seed. */
static uint8_t *big_frame(size_t n, unsigned seed)
{
    uint8_t *f = malloc(n);
    ck_assert_ptr_nonnull(f);
    f[0] = 0x82;
    f[1] = 127;
    uint64_t len = n - 10;
    for (int i = 0; i < 8; i++)
        f[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    for (size_t i = 10; i < n; i++)
        f[i] = (uint8_t)(i * 7 + seed);
    return f;
}

START_TEST(a_full_socket_mid_turn_keeps_the_rest_in_order)
{
    /* Together far more than loopback socket buffers take at once, so the
     * socket fills in the middle of the turn's frames. */
    enum { FRAMES = 8 };
    size_t n = 3u << 20;
    uint8_t *frames[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
        frames[i] = big_frame(n, (unsigned)i);
        ck_assert_int_eq(ws_conn_send_ref(server_ws, frames[i], n, release, &releases), 0);
    }
    pump();
    ck_assert_int_lt(releases, FRAMES);
    ck_assert_uint_gt(ws_conn_pending(server_ws), 0);
    /* Queued behind the rest, not before it. */
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    uint8_t *got = malloc(n);
    ck_assert_ptr_nonnull(got);
    for (int i = 0; i < FRAMES; i++) {
        client_read(got, n);
        ck_assert_mem_eq(got, frames[i], n);
    }
    uint8_t tail[sizeof(frame_c)];
    client_read(tail, sizeof(tail));
    ck_assert_mem_eq(tail, frame_c, sizeof(frame_c));
    ck_assert_int_eq(releases, FRAMES + 1);
    ck_assert_uint_eq(ws_conn_pending(server_ws), 0);
    for (int i = 0; i < FRAMES; i++)
        free(frames[i]);
    free(got);
}
END_TEST

START_TEST(a_full_socket_keeps_the_rest_until_writable)
{
    /* Larger than loopback socket buffers take at once. */
    size_t n = 24u << 20;
    uint8_t *big = malloc(n), *got = malloc(n);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(got);
    big[0] = 0x82;
    big[1] = 127;
    uint64_t len = n - 10;
    for (int i = 0; i < 8; i++)
        big[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    for (size_t i = 10; i < n; i++)
        big[i] = (uint8_t)(i * 7);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, big, n, release, &releases), 0);
    pump();
    ck_assert_int_eq(releases, 0);
    ck_assert_uint_gt(ws_conn_pending(server_ws), 0);
    ck_assert_uint_lt(ws_conn_pending(server_ws), n);
    /* Queued behind the rest, not before it. */
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    client_read(got, n);
    ck_assert_mem_eq(got, big, n);
    uint8_t tail[sizeof(frame_c)];
    client_read(tail, sizeof(tail));
    ck_assert_mem_eq(tail, frame_c, sizeof(frame_c));
    ck_assert_int_eq(releases, 2);
    ck_assert_uint_eq(ws_conn_pending(server_ws), 0);
    free(big);
    free(got);
}
END_TEST

START_TEST(closing_sends_the_held_frame_first)
{
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ws_conn_close(server_ws, 1000, NULL);
    server_ws = NULL;
    uint8_t got[sizeof(frame_a) + 4];
    client_read(got, sizeof(got));
    ck_assert_mem_eq(got, frame_a, sizeof(frame_a));
    const uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xE8};
    ck_assert_mem_eq(got + sizeof(frame_a), close_frame, 4);
    ck_assert_int_eq(releases, 1);
}
END_TEST

START_TEST(closing_sends_every_held_frame_first)
{
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_c, sizeof(frame_c), release, &releases), 0);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ws_conn_close(server_ws, 1000, NULL);
    server_ws = NULL;
    uint8_t got[2 * sizeof(frame_a) + sizeof(frame_c) + 4];
    client_read(got, sizeof(got));
    ck_assert_mem_eq(got, frame_a, sizeof(frame_a));
    ck_assert_mem_eq(got + sizeof(frame_a), frame_c, sizeof(frame_c));
    ck_assert_mem_eq(got + sizeof(frame_a) + sizeof(frame_c), frame_a, sizeof(frame_a));
    const uint8_t close_frame[] = {0x88, 0x02, 0x03, 0xE8};
    ck_assert_mem_eq(got + 2 * sizeof(frame_a) + sizeof(frame_c), close_frame, 4);
    ck_assert_int_eq(releases, 3);
}
END_TEST

START_TEST(a_vanished_peer_releases_every_held_frame)
{
    struct linger hard = {1, 0};
    ck_assert_int_eq(setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)), 0);
    close(client); /* RST */
    client = -1;
    usleep(20000);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    for (int i = 0; i < 100 && closes == 0; i++) {
        pump();
        usleep(1000);
    }
    ck_assert_int_eq(closes, 1);
    ck_assert_int_eq(releases, 10);
    ck_assert_uint_eq(ws_conn_count(), 0);
}
END_TEST

START_TEST(a_vanished_peer_releases_the_held_frame)
{
    struct linger hard = {1, 0};
    ck_assert_int_eq(setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard)), 0);
    close(client); /* RST */
    client = -1;
    usleep(20000);
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    for (int i = 0; i < 100 && closes == 0; i++) {
        pump();
        usleep(1000);
    }
    ck_assert_int_eq(closes, 1);
    ck_assert_int_eq(releases, 1);
    ck_assert_uint_eq(ws_conn_count(), 0);
}
END_TEST

START_TEST(free_all_releases_a_held_frame)
{
    ck_assert_int_eq(ws_conn_send_ref(server_ws, frame_a, sizeof(frame_a), release, &releases), 0);
    ws_conn_free_all();
    ck_assert_int_eq(releases, 1);
    ck_assert_int_eq(closes, 1);
    ck_assert_uint_eq(ws_conn_count(), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ws_conn");
    TCase *t = tcase_create("write path");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, one_frame_by_reference_at_end_of_turn);
    tcase_add_test(t, the_socket_taken_over_sends_without_delay);
    tcase_add_test(t, frames_of_one_turn_keep_their_order);
    tcase_add_test(t, a_turn_goes_out_in_one_write);
    tcase_add_test(t, more_frames_than_one_writev_takes_keep_their_order);
    tcase_add_test(t, a_copied_frame_first_keeps_the_order);
    tcase_add_test(t, a_full_socket_mid_turn_keeps_the_rest_in_order);
    tcase_add_test(t, a_full_socket_keeps_the_rest_until_writable);
    tcase_add_test(t, closing_sends_the_held_frame_first);
    tcase_add_test(t, closing_sends_every_held_frame_first);
    tcase_add_test(t, a_vanished_peer_releases_the_held_frame);
    tcase_add_test(t, a_vanished_peer_releases_every_held_frame);
    tcase_add_test(t, free_all_releases_a_held_frame);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
