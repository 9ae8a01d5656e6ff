/* core/sio/sio_identity: a connection's identity, set once by the
 * authenticating plugin, replaced later (a refreshed token, a membership
 * change) with SBR_EVENT_IDENTITY and its differences, the user kept, not
 * replaced again from inside that event. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"
#include "sio/sio.h"
#include "sio/sio_identity.h"
#include "sio_fixture.h"

static sbr_plugin *const owner = (sbr_plugin *)0x1;

static sbr_conn_id conn;
static int events;
static char seen[512];     /* "added|removed|mod_added|mod_removed|user|expires" of the last event */
static int nested_status;  /* conn_set_identity from inside the hook */

static int on_connect(enum sbr_event_id id, void *event, void *userdata)
{
    conn = ((sbr_event_connect *)event)->conn;
    return SBR_PASS;
}

static void append_list(char *out, size_t cap, const char *const *list, size_t n)
{
    /* Sorted for a stable text: the event promises no order. */
    const char *sorted[16];
    ck_assert_uint_le(n, 16);
    if (n)
        memcpy(sorted, list, n * sizeof(*sorted));
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) > 0; j--) {
            const char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        strncat(out, i ? "," : "", cap - strlen(out) - 1);
        strncat(out, sorted[i], cap - strlen(out) - 1);
    }
    strncat(out, "|", cap - strlen(out) - 1);
}

static int on_identity(enum sbr_event_id id, void *event, void *userdata)
{
    const sbr_event_identity *ev = event;
    events++;
    ck_assert_uint_ge(ev->struct_size, sizeof(*ev));
    ck_assert(ev->current == sio_api_conn_identity(ev->conn));
    seen[0] = '\0';
    append_list(seen, sizeof(seen), ev->servers_added, ev->n_servers_added);
    append_list(seen, sizeof(seen), ev->servers_removed, ev->n_servers_removed);
    append_list(seen, sizeof(seen), ev->moderates_added, ev->n_moderates_added);
    append_list(seen, sizeof(seen), ev->moderates_removed, ev->n_moderates_removed);
    char tail[128];
    snprintf(tail, sizeof(tail), "%s/%s|%lld>%lld", ev->previous->user_id, ev->current->user_id,
             (long long)ev->previous->expires_at, (long long)ev->current->expires_at);
    strncat(seen, tail, sizeof(seen) - strlen(seen) - 1);
    nested_status = sio_api_conn_set_identity(ev->conn, ev->current);
    return 0;
}

static void setup(void)
{
    sio_fixture_start("ping_interval_ms = 60000\nping_timeout_ms = 60000\n");
    conn = 0;
    events = 0;
    seen[0] = '\0';
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_CONNECT, on_connect, NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner, SBR_EVENT_IDENTITY, on_identity, NULL), SBR_OK);
    char sid[64], got[4096];
    client_open(sid);
    ck_assert_int_eq(client_post(sid, "40"), 200);
    ck_assert(client_poll_for(sid, "40{\"sid\":\"", got, sizeof(got)));
    ck_assert_int_ne(conn, 0);
}

static void teardown(void)
{
    sio_fixture_stop();
}

static sbr_identity who(const char *user, const char *const *servers, size_t n_servers,
                        const char *const *moderates, size_t n_moderates, int64_t expires_at)
{
    return (sbr_identity){.struct_size = sizeof(sbr_identity), .user_id = user, .servers = servers,
                          .n_servers = n_servers, .moderates = moderates, .n_moderates = n_moderates,
                          .expires_at = expires_at};
}

START_TEST(test_first_identity_raises_nothing)
{
    const char *servers[] = {"s1", "s2"};
    sbr_identity first = who("u1", servers, 2, servers, 1, 100);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &first), SBR_OK);
    ck_assert_int_eq(events, 0);
    const sbr_identity *kept = sio_api_conn_identity(conn);
    ck_assert_str_eq(kept->user_id, "u1");
    ck_assert_uint_eq(kept->n_servers, 2);
    ck_assert_str_eq(kept->moderates[0], "s1");
    ck_assert(kept->servers != servers); /* a deep copy */
}
END_TEST

START_TEST(test_replacement_tells_the_differences)
{
    const char *before[] = {"s1", "s2"};
    const char *after[] = {"s2", "s3", "s3"};
    sbr_identity first = who("u1", before, 2, before, 1, 100);
    sbr_identity second = who("u1", after, 3, NULL, 0, 400);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &first), SBR_OK);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &second), SBR_OK);
    ck_assert_int_eq(events, 1);
    ck_assert_str_eq(seen, "s3|s1||s1|u1/u1|100>400");
    /* Not again from inside its own event: the hooks were told of this one. */
    ck_assert_int_eq(nested_status, SBR_ERR_STATE);
    ck_assert_int_eq(sio_api_conn_identity(conn)->expires_at, 400);
    /* The same identity again: an event with nothing in its lists. */
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &second), SBR_OK);
    ck_assert_int_eq(events, 2);
    ck_assert_str_eq(seen, "||||u1/u1|400>400");
}
END_TEST

START_TEST(test_refusals)
{
    const char *servers[] = {"s1"};
    const char *holes[] = {"s1", NULL};
    sbr_identity first = who("u1", servers, 1, NULL, 0, 0);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &first), SBR_OK);
    /* Another user: the rooms, presence and typing are keyed by the user. */
    sbr_identity other = who("u2", servers, 1, NULL, 0, 0);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &other), SBR_ERR_INVALID);
    sbr_identity broken = who("u1", holes, 2, NULL, 0, 0);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &broken), SBR_ERR_INVALID);
    sbr_identity no_list = who("u1", NULL, 1, NULL, 0, 0);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, &no_list), SBR_ERR_INVALID);
    ck_assert_int_eq(sio_api_conn_set_identity(conn, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(sio_api_conn_set_identity(conn + 1000, &first), SBR_ERR_GONE);
    ck_assert_int_eq(events, 0);
    ck_assert_str_eq(sio_api_conn_identity(conn)->user_id, "u1");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sio_identity");
    TCase *tc = tcase_create("sio_identity");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_first_identity_raises_nothing);
    tcase_add_test(tc, test_replacement_tells_the_differences);
    tcase_add_test(tc, test_refusals);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
