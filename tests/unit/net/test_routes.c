/* core/net/routes.c: which route patterns plugins may register (the core's
 * registered paths are refused). */
#include <check.h>
#include <stdlib.h>

#include "net/http.h"
#include "net/http_internal.h"

static void handler(sbr_http_request *req, void *userdata)
{
}

static void core_handler(struct evhttp_request *req, void *arg)
{
}

static sbr_plugin *const owner = (sbr_plugin *)0x1;

START_TEST(test_patterns)
{
    ck_assert_int_eq(http_prefix_handler("/socket.io/", core_handler, NULL), 0);
    ck_assert_int_eq(http_builtin_route("/healthz", core_handler, NULL), 0);
    ck_assert_int_eq(http_builtin_route("/metrics", core_handler, NULL), 0);
    static const char *const good[] = {
        "/api/realtime/channels/{channel_id}",
        "/api/realtime/channels/{channel_id}/reserve",
        "/api/realtime/publish",
        "/a/{x}/{y_2}/",
        "/",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(http_api_route(owner, "POST", good[i], handler, NULL) == SBR_OK, "%s", good[i]);
    /* The same method and pattern twice is a conflict; another method is not. */
    ck_assert_int_eq(http_api_route(owner, "POST", "/api/realtime/publish", handler, NULL), SBR_ERR_STATE);
    ck_assert_int_eq(http_api_route(owner, "GET", "/api/realtime/publish", handler, NULL), SBR_OK);
    static const char *const bad[] = {
        "relative", "", "/a//b", "/{}", "/{a-b}", "/x{y}", "/{y}z", "/a}", "/healthz", "/metrics",
        "/socket.io/", "/socket.io/x", "/socket.io",
        "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24/25/26/27/28/29/30/31/32/33",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(http_api_route(owner, "POST", bad[i], handler, NULL) == SBR_ERR_INVALID, "%s", bad[i]);
    ck_assert_int_eq(http_api_route(owner, "OPTIONS", "/o", handler, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(http_api_route(owner, "get", "/o", handler, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(http_api_route(owner, "GET", "/o", NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(http_api_route(owner, NULL, "/o", handler, NULL), SBR_ERR_INVALID);
    /* Unregistering frees the slot for another owner. */
    http_unregister_all(owner);
    ck_assert_int_eq(http_api_route((sbr_plugin *)0x2, "POST", "/api/realtime/publish", handler, NULL), SBR_OK);
    /* Near the core's paths, not under them. */
    ck_assert_int_eq(http_api_route(owner, "GET", "/socket.iox", handler, NULL), SBR_OK);
    ck_assert_int_eq(http_api_route(owner, "GET", "/healthz/more", handler, NULL), SBR_OK);
    routes_free();
    http_paths_free();
}
END_TEST

START_TEST(test_request_services_tolerate_null)
{
    size_t len = 7;
    ck_assert_ptr_null(http_api_method(NULL));
    ck_assert_ptr_null(http_api_path(NULL));
    ck_assert_ptr_null(http_api_param(NULL, "x"));
    ck_assert_ptr_null(http_api_header(NULL, "x"));
    ck_assert_ptr_null(http_api_body(NULL, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(http_api_reply(NULL, 200, NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(http_api_check_api_key(NULL), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net_routes");
    TCase *tc = tcase_create("routes");
    tcase_add_test(tc, test_patterns);
    tcase_add_test(tc, test_request_services_tolerate_null);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
