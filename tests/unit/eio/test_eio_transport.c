/* core/eio/eio_transport.c: Engine.IO v4 over HTTP, against a real server
 * on loopback: the handshake, its refusals, long-polling POST and GET,
 * malformed and oversize bodies, a second GET, and relaying only what can
 * be relayed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eio_fixture.h"
#include "loopback.h"
#include "util/worker_id.h"

static void setup(void)
{
    fixture_start("max_payload = 1024\nmax_connections = 3\nping_interval_ms = 60000\nping_timeout_ms = 60000\n");
}

static void teardown(void)
{
    fixture_stop();
}

START_TEST(test_handshake)
{
    char body[512], sid[64];
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=polling", NULL, body, sizeof(body)), 200);
    ck_assert_int_eq(sscanf(body, "0{\"sid\":\"%63[^\"]", sid), 1);
    /* The sid names this worker, then 22 random characters. */
    ck_assert_uint_eq(strlen(sid), WORKER_ID_LEN + 22);
    ck_assert_int_eq(strncmp(sid, worker_id(), WORKER_ID_LEN), 0);
    char want[512];
    snprintf(want, sizeof(want),
             "0{\"sid\":\"%s\",\"upgrades\":[\"websocket\"],\"pingInterval\":60000,\"pingTimeout\":60000,"
             "\"maxPayload\":1024}",
             sid);
    ck_assert_str_eq(body, want);
    ck_assert_int_eq(fixture_opened, 1);
    ck_assert_ptr_nonnull(fixture_sessions[0].session);
    ck_assert_str_eq(eio_session_sid(fixture_sessions[0].session), sid);
}
END_TEST

START_TEST(test_refusals)
{
    char body[512], sid[64];
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=3&transport=polling", NULL, body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":5,\"message\":\"Unsupported protocol version\"}");
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=carrier-pigeon", NULL, body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":0,\"message\":\"Transport unknown\"}");
    ck_assert_int_eq(fixture_http("POST", "/socket.io/?EIO=4&transport=polling", "", body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":2,\"message\":\"Bad handshake method\"}");
    /* A sid of this worker that does not exist is unknown, never relayed. */
    snprintf(sid, sizeof(sid), "%sAAAAAAAAAAAAAAAAAAAAAA", worker_id());
    char target[256];
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    ck_assert_int_eq(fixture_http("GET", target, NULL, body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
    /* So is a malformed one. */
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=polling&sid=%00x", NULL, body, sizeof(body)),
                     400);
    ck_assert_int_eq(fixture_opened, 0);
    /* max_connections (3): the fourth handshake is refused. */
    for (int i = 0; i < 3; i++)
        fixture_handshake(sid);
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=polling", NULL, body, sizeof(body)), 503);
    ck_assert_int_eq(fixture_opened, 3);
}
END_TEST

START_TEST(test_polling_post)
{
    char body[2048], sid[64], target[256];
    int i = fixture_handshake(sid);
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    ck_assert_int_eq(fixture_http("POST", target, "4hello\x1e" "4world\x1e" "6", body, sizeof(body)), 200);
    ck_assert_str_eq(body, "ok");
    ck_assert_str_eq(fixture_sessions[i].messages, "hello|world|");
    /* Binary over polling: "b" and base64. */
    ck_assert_int_eq(fixture_http("POST", target, "bAQID", body, sizeof(body)), 200);
    ck_assert_int_eq(fixture_sessions[i].binary_messages, 1);
    /* A malformed packet closes the session. */
    ck_assert_int_eq(fixture_http("POST", target, "4ok\x1e" "9?", body, sizeof(body)), 400);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "parse error");
    ck_assert_int_eq(fixture_http("POST", target, "4late", body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
}
END_TEST

START_TEST(test_polling_limits)
{
    char body[4096], sid[64], target[256], big[2048];
    int i = fixture_handshake(sid);
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    memset(big, 'x', sizeof(big) - 1);
    big[0] = '4';
    big[sizeof(big) - 1] = '\0';
    /* Past max_payload (1024): 413, and the session is over. */
    ck_assert_int_eq(fixture_http("POST", target, big, body, sizeof(body)), 413);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "transport error");
    ck_assert_str_eq(fixture_sessions[i].messages, "");
    /* An empty body is malformed. */
    i = fixture_handshake(sid);
    snprintf(target, sizeof(target), "/socket.io/?EIO=4&transport=polling&sid=%s", sid);
    ck_assert_int_eq(fixture_http("POST", target, "", body, sizeof(body)), 400);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "parse error");
}
END_TEST

START_TEST(test_polling_get)
{
    char sid[64], request[256], out[2048];
    int i = fixture_handshake(sid);
    snprintf(request, sizeof(request),
             "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", sid);
    /* A GET waits while nothing is queued... */
    int fd = loopback_connect(fixture_port), closed;
    ck_assert_int_eq(loopback_send(fd, request, strlen(request)), 0);
    ck_assert_uint_eq(loopback_read(fixture_base, fd, out, sizeof(out), 200, &closed), 0);
    /* ...and is answered with what the layer above sends, in order. */
    fixture_send(fixture_sessions[i].session, "4one");
    loopback_read(fixture_base, fd, out, sizeof(out), 2000, &closed);
    close(fd);
    ck_assert_int_eq(loopback_status(out), 200);
    ck_assert_str_eq(loopback_body(out), "4one");
    /* Queued while no GET is pending: the next GET takes them all. */
    fixture_send(fixture_sessions[i].session, "4two");
    fixture_send(fixture_sessions[i].session, "4three");
    ck_assert_uint_gt(eio_session_pending(fixture_sessions[i].session), 0);
    loopback_exchange(fixture_base, fixture_port, request, out, sizeof(out));
    ck_assert_str_eq(loopback_body(out), "4two\x1e" "4three");
    ck_assert_uint_eq(eio_session_pending(fixture_sessions[i].session), 0);
}
END_TEST

START_TEST(test_second_get)
{
    char sid[64], request[256], out[2048];
    int i = fixture_handshake(sid);
    snprintf(request, sizeof(request),
             "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", sid);
    int fd = loopback_connect(fixture_port), closed;
    ck_assert_int_eq(loopback_send(fd, request, strlen(request)), 0);
    loopback_pump(fixture_base, 50);
    /* Two GETs at once break the protocol: the second is refused, the session ends. */
    loopback_exchange(fixture_base, fixture_port, request, out, sizeof(out));
    ck_assert_int_eq(loopback_status(out), 400);
    ck_assert_str_eq(fixture_sessions[i].close_reason, "transport error");
    /* The first one learns of the close. */
    loopback_read(fixture_base, fd, out, sizeof(out), 2000, &closed);
    close(fd);
    ck_assert_int_eq(loopback_status(out), 200);
    ck_assert_ptr_nonnull(strstr(loopback_body(out), "1"));
}
END_TEST

START_TEST(test_relay_refused_for_other_paths)
{
    /* Another worker's sid: no bus, no address: unknown, answered at once
     * after its lookups, never hanging. */
    char body[256];
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=polling&sid=ZZZZZZZZZZZAAAAAAAAAAAAAAAAAAAAAA",
                                  NULL, body, sizeof(body)), 400);
    ck_assert_str_eq(body, "{\"code\":1,\"message\":\"Session ID unknown\"}");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("eio_transport");
    TCase *tc = tcase_create("transport");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_handshake);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_polling_post);
    tcase_add_test(tc, test_polling_limits);
    tcase_add_test(tc, test_polling_get);
    tcase_add_test(tc, test_second_get);
    tcase_add_test(tc, test_relay_refused_for_other_paths);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
