/* core/sio: the connect chain (pass, refuse, pending and resumed either
 * way, held emits), client events through hooks by name, and deferred
 * endings (a disconnect asked inside a hook, a client's disconnect, the
 * connect timeout, protocol errors), against a real server on loopback
 * with polling clients. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"
#include "sio/sio.h"
#include "sio_fixture.h"

static sbr_plugin *const owner = (sbr_plugin *)0x1;

static int connect_verdict;        /* what the connect hook answers */
static const char *connect_reason;
static sbr_conn_id last_conn;       /* the connection the connect hook saw */
static int connected_events;
static char disconnects[256];       /* "reason/was_connected;" per disconnect hook */
static int alive_inside_hook;

static int on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_connect *ev = event;
    last_conn = ev->conn;
    ev->reason = connect_reason;
    return connect_verdict;
}

static int on_connected(enum sbr_event_id id, void *event, void *userdata)
{
    connected_events++;
    return 0;
}

static int on_disconnect(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_disconnect *ev = event;
    char one[64];
    snprintf(one, sizeof(one), "%s/%d;", ev->reason, ev->was_connected);
    strncat(disconnects, one, sizeof(disconnects) - strlen(disconnects) - 1);
    /* Gone already for services: rooms left, emits fail. */
    ck_assert_int_eq(sio_api_conn_alive(ev->conn), 0);
    return 0;
}

static void setup(void)
{
    sio_fixture_start("connect_timeout_ms = 300\nping_interval_ms = 60000\nping_timeout_ms = 60000\n");
    connect_verdict = SBR_PASS;
    connect_reason = NULL;
    last_conn = 0;
    connected_events = 0;
    disconnects[0] = '\0';
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECT, on_connect, NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECTED, on_connected, NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_DISCONNECT, on_disconnect, NULL), SBR_OK);
}

static void teardown(void)
{
    sio_fixture_stop();
}

START_TEST(test_connect_accepted)
{
    char sid[64], got[4096];
    client_open(sid);
    ck_assert_int_eq(client_post(sid, "40"), 200);
    ck_assert_int_ne(last_conn, 0);
    ck_assert(client_poll_for(sid, "40{\"sid\":\"", got, sizeof(got)));
    ck_assert_int_eq(connected_events, 1);
    ck_assert_int_eq(sio_api_conn_alive(last_conn), 1);
    ck_assert_str_eq(sio_api_conn_namespace(last_conn), "/");
    ck_assert_uint_eq(sio_connection_count(), 1);
    /* The client leaves the namespace: the last one, so the session goes too. */
    ck_assert_int_eq(client_post(sid, "41"), 200);
    ck_assert_str_eq(disconnects, "client namespace disconnect/1;");
    ck_assert_int_eq(sio_api_conn_alive(last_conn), 0);
}
END_TEST

START_TEST(test_connect_refused)
{
    char sid[64], got[4096];
    connect_verdict = SBR_REFUSE;
    connect_reason = "authentication_required";
    client_open(sid);
    ck_assert_int_eq(client_post(sid, "40{\"token\":\"x\"}"), 200);
    ck_assert(client_poll_for(sid, "44{\"message\":\"authentication_required\"}", got, sizeof(got)));
    ck_assert_int_eq(connected_events, 0);
    /* Offered to the connect hooks, so the disconnect hooks hear of it. */
    ck_assert_str_eq(disconnects, "connect refused/0;");
    ck_assert_int_eq(sio_api_conn_alive(last_conn), 0);
    /* An unknown namespace is refused without asking anybody. */
    last_conn = 0;
    ck_assert_int_eq(client_post(sid, "40/elsewhere,"), 200);
    ck_assert(client_poll_for(sid, "44/elsewhere,{\"message\":\"Invalid namespace\"}", got, sizeof(got)));
    ck_assert_int_eq(last_conn, 0);
}
END_TEST

START_TEST(test_connect_pending_then_accepted)
{
    char sid[64], got[4096];
    connect_verdict = SBR_PENDING;
    client_open(sid);
    ck_assert_int_eq(client_post(sid, "40"), 200);
    sbr_conn_id conn = last_conn;
    ck_assert_int_eq(connected_events, 0);
    ck_assert_int_eq(sio_api_conn_alive(conn), 1);
    /* Emitted while pending: held, and sent with the answer. */
    ck_assert_int_eq(sio_api_emit(conn, "early", "{\"n\":1}", 0), SBR_OK);
    ck_assert_int_eq(sio_api_connect_resume(conn, SBR_PASS, NULL), SBR_OK);
    ck_assert(client_poll_for(sid, "40{\"sid\":\"", got, sizeof(got)));
    ck_assert_ptr_nonnull(strstr(got, "42[\"early\",{\"n\":1}]"));
    ck_assert_int_eq(connected_events, 1);
    /* Resumed twice: the chain is over. */
    ck_assert_int_eq(sio_api_connect_resume(conn, SBR_PASS, NULL), SBR_ERR_STATE);
    ck_assert_int_eq(sio_api_connect_resume(conn, (enum sbr_verdict)SBR_CONSUME, NULL), SBR_ERR_STATE);
}
END_TEST

START_TEST(test_connect_pending_then_refused)
{
    char sid[64], got[4096];
    connect_verdict = SBR_PENDING;
    client_open(sid);
    ck_assert_int_eq(client_post(sid, "40"), 200);
    sbr_conn_id conn = last_conn;
    ck_assert_int_eq(sio_api_emit(conn, "secret", NULL, 0), SBR_OK);
    ck_assert_int_eq(sio_api_connect_resume(conn, (enum sbr_verdict)7, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(sio_api_connect_resume(conn, SBR_REFUSE, "invalid_token"), SBR_OK);
    ck_assert(client_poll_for(sid, "44{\"message\":\"invalid_token\"}", got, sizeof(got)));
    /* What was held for it is dropped with the refusal. */
    ck_assert_ptr_null(strstr(got, "secret"));
    ck_assert_str_eq(disconnects, "connect refused/0;");
    ck_assert_int_eq(sio_api_connect_resume(conn, SBR_PASS, NULL), SBR_ERR_GONE);
}
END_TEST

static int on_kick(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_message *ev = event;
    ck_assert_int_eq(sio_api_conn_disconnect(ev->conn, "kicked"), SBR_OK);
    /* Deferred: the connection lives until the hook returns. */
    alive_inside_hook = sio_api_conn_alive(ev->conn);
    sio_api_message_reply(ev->msg, "{\"ok\":true}");
    return SBR_CONSUME;
}

START_TEST(test_disconnect_inside_a_hook)
{
    char sid[64], got[4096];
    ck_assert_int_eq(hooks_named_handle(owner, "kick", on_kick, NULL, NULL), SBR_OK);
    client_open(sid);
    client_post(sid, "40");
    ck_assert(client_poll_for(sid, "40{", got, sizeof(got)));
    alive_inside_hook = -1;
    ck_assert_int_eq(client_post(sid, "421[\"kick\"]"), 200);
    ck_assert_int_eq(alive_inside_hook, 1);
    sio_fixture_pump(20);
    ck_assert_str_eq(disconnects, "kicked/1;");
    /* The ack, then the DISCONNECT: the session ends with its last namespace. */
    ck_assert(client_poll_for(sid, "41", got, sizeof(got)));
    ck_assert_ptr_nonnull(strstr(got, "431[{\"ok\":true}]"));
    ck_assert(strstr(got, "431[") < strstr(got, "\x1e" "41"));
    /* The session's close packet answers a GET of its own. */
    ck_assert(client_poll_for(sid, "1", got, sizeof(got)));
    sio_fixture_pump(20);
    ck_assert_uint_eq(sio_connection_count(), 0);
    ck_assert_int_eq(sio_api_conn_disconnect(last_conn, "again"), SBR_ERR_GONE);
}
END_TEST

static int handled;

static int on_named(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_message *ev = event;
    handled++;
    char reply[128];
    snprintf(reply, sizeof(reply), "{\"ok\":true,\"args\":%s}", ev->args_json);
    sio_api_message_reply(ev->msg, reply);
    return SBR_CONSUME;
}

static int on_filter(enum sbr_event_id id, void *event, void *userdata)
{
    sbr_event_message *ev = event;
    if (strstr(ev->args_json, "bad")) {
        ev->reason = "filtered";
        return SBR_REFUSE;
    }
    return SBR_PASS;
}

START_TEST(test_events_by_name)
{
    char sid[64], got[4096];
    ck_assert_int_eq(hooks_named_handle(owner, "echo", on_named, NULL, NULL), SBR_OK);
    ck_assert_int_eq(hooks_named_filter(owner, "echo", on_filter, NULL), SBR_OK);
    handled = 0;
    client_open(sid);
    client_post(sid, "40");
    ck_assert(client_poll_for(sid, "40{", got, sizeof(got)));
    ck_assert_int_eq(client_post(sid, "421[\"echo\",\"good\"]\x1e" "422[\"echo\",\"bad\"]\x1e" "423[\"nobody\"]"), 200);
    ck_assert(client_poll_for(sid, "433[", got, sizeof(got)));
    ck_assert_ptr_nonnull(strstr(got, "431[{\"ok\":true,\"args\":[\"good\"]}]"));
    ck_assert_ptr_nonnull(strstr(got, "432[{\"ok\":false,\"error\":\"filtered\"}]"));
    ck_assert_ptr_nonnull(strstr(got, "433[{\"ok\":false,\"error\":\"unknown_event\"}]"));
    ck_assert_int_eq(handled, 1); /* the refused one never reached its handler */
}
END_TEST

START_TEST(test_connect_timeout_and_protocol_errors)
{
    char sid[64], got[1024];
    client_open(sid);
    /* No CONNECT within connect_timeout_ms: the session is closed (its
     * close packet is the next GET's answer). */
    sio_fixture_pump(500);
    ck_assert(client_poll_for(sid, "1", got, sizeof(got)));
    ck_assert_int_eq(client_post(sid, "40"), 400);
    /* A DISCONNECT from a namespace never joined ends the session, and so
     * does a malformed packet. */
    static const char *const bad[] = {"41/admin,", "4{}", "49"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        client_open(sid);
        ck_assert_int_eq(client_post(sid, bad[i]), 200);
        ck_assert_msg(client_poll_for(sid, "1", got, sizeof(got)), "after %s: %s", bad[i], got);
        ck_assert_int_eq(client_post(sid, "40"), 400);
    }
    ck_assert_str_eq(disconnects, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sio");
    TCase *tc = tcase_create("sio");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_connect_accepted);
    tcase_add_test(tc, test_connect_refused);
    tcase_add_test(tc, test_connect_pending_then_accepted);
    tcase_add_test(tc, test_connect_pending_then_refused);
    tcase_add_test(tc, test_disconnect_inside_a_hook);
    tcase_add_test(tc, test_events_by_name);
    tcase_add_test(tc, test_connect_timeout_and_protocol_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
