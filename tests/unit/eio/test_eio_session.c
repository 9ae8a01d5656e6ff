/* core/eio/eio_session.c: sessions against a real server on loopback: the
 * handshake's query and headers kept for plugins (Engine.IO's own left
 * out), heartbeats and the ping timeout, a client's close, a server's
 * close, and the count of live sessions. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eio_fixture.h"
#include "loopback.h"

static void setup(void)
{
    fixture_start("ping_interval_ms = 150\nping_timeout_ms = 150\n");
}

static void teardown(void)
{
    fixture_stop();
}

static void poll_request(const char *sid, char *out, size_t cap)
{
    snprintf(out, cap, "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             sid);
}

START_TEST(test_handshake_meta)
{
    char out[1024];
    loopback_exchange(fixture_base, fixture_port,
                      "GET /socket.io/?EIO=4&transport=polling&token=t0k%20en&t=123 HTTP/1.1\r\nHost: t\r\n"
                      "X-Client: tests\r\nConnection: close\r\n\r\n",
                      out, sizeof(out));
    ck_assert_int_eq(loopback_status(out), 200);
    struct eio_session *s = fixture_sessions[0].session;
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(eio_session_query(s, "token"), "t0k en");
    /* Engine.IO's own parameters and the transport's headers are not kept. */
    ck_assert_ptr_null(eio_session_query(s, "EIO"));
    ck_assert_ptr_null(eio_session_query(s, "t"));
    ck_assert_ptr_null(eio_session_query(s, "transport"));
    ck_assert_str_eq(eio_session_header(s, "x-client"), "tests");
    ck_assert_ptr_null(eio_session_header(s, "Connection"));
    ck_assert_ptr_null(eio_session_header(s, "X-Absent"));
    ck_assert_str_eq(eio_session_remote_addr(s), "127.0.0.1");
    ck_assert_uint_eq(eio_session_count(), 1);
}
END_TEST

START_TEST(test_heartbeat_and_timeout)
{
    char sid[64], request[256], out[1024], target[256];
    int i = fixture_handshake(sid);
    poll_request(sid, request, sizeof(request));
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    /* The server pings after ping_interval_ms; a pong keeps the session. */
    loopback_exchange(fixture_base, fixture_port, request, out, sizeof(out));
    ck_assert_str_eq(loopback_body(out), "2");
    ck_assert_int_eq(fixture_http("POST", target, "3", out, sizeof(out)), 200);
    loopback_exchange(fixture_base, fixture_port, request, out, sizeof(out));
    ck_assert_str_eq(loopback_body(out), "2");
    ck_assert_str_eq(fixture_sessions[i].close_reason, "");
    /* No pong this time: gone after ping_timeout_ms. */
    loopback_pump(fixture_base, 400);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "ping timeout");
    ck_assert_uint_eq(eio_session_count(), 0);
    ck_assert_int_eq(fixture_http("POST", target, "3", out, sizeof(out)), 400);
}
END_TEST

START_TEST(test_client_close)
{
    char sid[64], out[256], target[256];
    int i = fixture_handshake(sid);
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    ck_assert_int_eq(fixture_http("POST", target, "1", out, sizeof(out)), 200);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "transport close");
    ck_assert_uint_eq(eio_session_count(), 0);
}
END_TEST

START_TEST(test_server_close)
{
    char sid[64], request[256], out[1024];
    int i = fixture_handshake(sid);
    poll_request(sid, request, sizeof(request));
    fixture_send(fixture_sessions[i].session, "4last");
    /* Closed with no GET in flight: the queue and the close packet wait for
     * the client's next GET. */
    eio_session_close(fixture_sessions[i].session, "server namespace disconnect");
    ck_assert_str_eq(fixture_sessions[i].close_reason, "");
    /* Nothing more may be queued once closing. */
    struct eio_buf *b = eio_buf_new("4more", 5, 0);
    ck_assert_int_ne(eio_session_send(fixture_sessions[i].session, b), 0);
    eio_buf_unref(b);
    char got[256] = "";
    for (int n = 0; n < 3 && !strstr(got, "1"); n++) {
        loopback_exchange(fixture_base, fixture_port, request, out, sizeof(out));
        strncat(got, loopback_body(out), sizeof(got) - strlen(got) - 1);
        strncat(got, "/", sizeof(got) - strlen(got) - 1);
    }
    ck_assert_msg(strncmp(got, "4last", 5) == 0 && strstr(got, "1"), "polls got '%s'", got);
    loopback_pump(fixture_base, 50);
    /* Over once the client took its close packet. */
    ck_assert_str_ne(fixture_sessions[i].close_reason, "");
    ck_assert_ptr_null(fixture_sessions[i].session);
    ck_assert_uint_eq(eio_session_count(), 0);
}
END_TEST

START_TEST(test_close_all)
{
    char sid[64];
    fixture_handshake(sid);
    fixture_handshake(sid);
    ck_assert_uint_eq(eio_session_count(), 2);
    eio_server_close_all("server shutting down");
    ck_assert_str_eq(fixture_sessions[0].close_reason, "server shutting down");
    ck_assert_str_eq(fixture_sessions[1].close_reason, "server shutting down");
    ck_assert_uint_eq(eio_session_count(), 0);
    loopback_pump(fixture_base, 20); /* the closed sessions are freed from the loop */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eio_session");
    TCase *tc = tcase_create("session");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_handshake_meta);
    tcase_add_test(tc, test_heartbeat_and_timeout);
    tcase_add_test(tc, test_client_close);
    tcase_add_test(tc, test_server_close);
    tcase_add_test(tc, test_close_all);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
