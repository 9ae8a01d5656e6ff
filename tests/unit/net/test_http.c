/* core/net: the public server over real loopback connections: what is
 * registered is dispatched in order (prefix handlers before the body limit,
 * built-in routes, the plugins' routes), the size limits answer JSON, CORS
 * follows the settings, a request's headers have a deadline, and a private
 * server has a dispatcher of its own. */
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core_fixture.h"
#include "loopback.h"
#include "net/http.h"
#include "net/http_internal.h"
#include "settings.h"

static struct event_base *base;
static int port;
static char seen[256]; /* which handler ran, and what it saw */

static void reply_text(struct evhttp_request *req, const char *who)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    snprintf(seen, sizeof(seen), "%s %s %zu", who, evhttp_uri_get_path(uri),
             evbuffer_get_length(evhttp_request_get_input_buffer(req)));
    http_send(req, 200, "text/plain", who, strlen(who), NULL);
}

static void on_prefix(struct evhttp_request *req, void *arg)
{
    ck_assert_ptr_eq(arg, &port);
    reply_text(req, "prefix");
}

static void on_builtin(struct evhttp_request *req, void *arg)
{
    reply_text(req, arg);
}

static void on_route(sbr_http_request *req, void *userdata)
{
    snprintf(seen, sizeof(seen), "route %s", http_api_param(req, "id"));
    http_api_reply(req, 201, "{\"ok\":true}", NULL);
}

static sbr_plugin *const owner = (sbr_plugin *)0x1;

static void setup(void)
{
    char text[512];
    port = loopback_free_port();
    ck_assert_int_gt(port, 0);
    snprintf(text, sizeof(text),
             "listen = 127.0.0.1:%d\nmax_header_size = 1024\nmax_body_size = 1024\nmax_payload = 4096\n"
             "header_timeout_ms = 300\ncors_origins = https://app.example, https://b.example\n",
             port);
    core_fixture_settings(text);
    base = event_base_new();
    seen[0] = '\0';
    ck_assert_int_eq(http_prefix_handler("/socket.io/", on_prefix, &port), 0);
    ck_assert_int_eq(http_builtin_route("/healthz", on_builtin, "health"), 0);
    ck_assert_int_eq(http_api_route(owner, "PUT", "/api/things/{id}", on_route, NULL), SBR_OK);
    ck_assert_int_eq(http_server_start(base), 0);
}

static void teardown(void)
{
    http_unregister_all(owner);
    http_server_free();
    event_base_free(base);
    settings_free();
}

static int request(const char *raw, char *out, size_t cap)
{
    ck_assert_uint_gt(loopback_exchange(base, port, raw, out, cap), 0);
    return loopback_status(out);
}

START_TEST(test_registration_rules)
{
    /* Taken, malformed, or shadowing each other. */
    ck_assert_int_eq(http_prefix_handler("/socket.io/", on_prefix, &port), -1);
    ck_assert_int_eq(http_prefix_handler("/socket.io", on_prefix, &port), -1);
    ck_assert_int_eq(http_prefix_handler("/", on_prefix, &port), -1);
    ck_assert_int_eq(http_prefix_handler("/healthz/", on_prefix, &port), -1);
    ck_assert_int_eq(http_builtin_route("/healthz", on_builtin, "x"), -1);
    ck_assert_int_eq(http_builtin_route("/socket.io/status", on_builtin, "x"), -1);
    ck_assert_int_eq(http_builtin_route("relative", on_builtin, "x"), -1);
    ck_assert_int_eq(http_path_reserved("/socket.io"), 1);
    ck_assert_int_eq(http_path_reserved("/socket.iox"), 0);
    ck_assert_int_eq(http_api_route(owner, "GET", "/healthz", on_route, NULL), SBR_ERR_INVALID);
}
END_TEST

START_TEST(test_dispatch_order)
{
    char out[4096];
    ck_assert_int_eq(request("GET /socket.io/?EIO=4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out,
                             sizeof(out)), 200);
    ck_assert_str_eq(seen, "prefix /socket.io/ 0");
    ck_assert_int_eq(request("GET /socket.io HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)),
                     200);
    ck_assert_str_eq(seen, "prefix /socket.io 0");
    /* A prefix handler enforces its own body limit: 2000 bytes pass through. */
    char big[4096];
    snprintf(big, sizeof(big), "POST /socket.io/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n"
                               "Connection: close\r\n\r\n%02000d", 0);
    ck_assert_int_eq(request(big, out, sizeof(out)), 200);
    ck_assert_str_eq(seen, "prefix /socket.io/x 2000");
    /* Anywhere else it is 413 JSON before any route. */
    snprintf(big, sizeof(big), "PUT /api/things/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 2000\r\n"
                               "Connection: close\r\n\r\n%02000d", 0);
    seen[0] = '\0';
    ck_assert_int_eq(request(big, out, sizeof(out)), 413);
    ck_assert_str_eq(loopback_body(out), "{\"error\":\"payload_too_large\"}");
    ck_assert_str_eq(seen, "");
    ck_assert_int_eq(request("GET /socket.iox HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)),
                     404);
    ck_assert_str_eq(loopback_body(out), "{\"error\":\"not_found\"}");
}
END_TEST

START_TEST(test_builtin_and_routes)
{
    char out[4096], value[64];
    ck_assert_int_eq(request("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)), 200);
    ck_assert_str_eq(seen, "health /healthz 0");
    ck_assert_int_eq(request("HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)),
                     200);
    ck_assert_int_eq(request("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                             out, sizeof(out)), 405);
    ck_assert_str_eq(loopback_header(out, "Allow", value, sizeof(value)), "GET, HEAD");
    ck_assert_int_eq(request("PUT /api/things/a%20b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n"
                             "Connection: close\r\n\r\n{}", out, sizeof(out)), 201);
    ck_assert_str_eq(seen, "route a b");
    ck_assert_str_eq(loopback_body(out), "{\"ok\":true}");
    ck_assert_int_eq(request("GET /api/things/1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)),
                     405);
    ck_assert_str_eq(loopback_header(out, "Allow", value, sizeof(value)), "PUT");
    ck_assert_str_eq(loopback_body(out), "{\"error\":\"method_not_allowed\"}");
}
END_TEST

START_TEST(test_header_limit)
{
    char raw[4096], out[4096];
    /* Past max_header_size (1024) and below evhttp's ceiling (twice that). */
    snprintf(raw, sizeof(raw), "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: %01400d\r\nConnection: close\r\n\r\n", 0);
    ck_assert_int_eq(request(raw, out, sizeof(out)), 431);
    ck_assert_str_eq(loopback_body(out), "{\"error\":\"request_header_fields_too_large\"}");
    /* Even for a prefix: the header limit comes first. */
    snprintf(raw, sizeof(raw), "GET /socket.io/ HTTP/1.1\r\nHost: t\r\nX-Pad: %01400d\r\nConnection: close\r\n\r\n", 0);
    seen[0] = '\0';
    ck_assert_int_eq(request(raw, out, sizeof(out)), 431);
    ck_assert_str_eq(seen, "");
}
END_TEST

START_TEST(test_cors)
{
    char out[4096], value[128];
    ck_assert_int_eq(request("GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: https://b.example\r\n"
                             "Connection: close\r\n\r\n", out, sizeof(out)), 200);
    ck_assert_str_eq(loopback_header(out, "Access-Control-Allow-Origin", value, sizeof(value)), "https://b.example");
    ck_assert_str_eq(loopback_header(out, "Vary", value, sizeof(value)), "Origin");
    ck_assert_int_eq(request("GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n"
                             "Connection: close\r\n\r\n", out, sizeof(out)), 200);
    ck_assert_ptr_null(loopback_header(out, "Access-Control-Allow-Origin", value, sizeof(value)));
    /* The preflight, for an allowed and a refused origin. */
    ck_assert_int_eq(request("OPTIONS /api/things/1 HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example\r\n"
                             "Access-Control-Request-Headers: Authorization, Content-Type\r\nConnection: close\r\n\r\n",
                             out, sizeof(out)), 204);
    ck_assert_str_eq(loopback_header(out, "Access-Control-Allow-Headers", value, sizeof(value)),
                     "Authorization, Content-Type");
    ck_assert_int_eq(request("OPTIONS /api/things/1 HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n"
                             "Connection: close\r\n\r\n", out, sizeof(out)), 403);
    ck_assert_str_eq(loopback_body(out), "{\"error\":\"origin_not_allowed\"}");
}
END_TEST

START_TEST(test_header_deadline)
{
    /* Headers trickled in and never finished: closed after header_timeout_ms. */
    int fd = loopback_connect(port), closed = 0;
    char out[256];
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(loopback_send(fd, "GET /healthz HTTP/1.1\r\nHost: t\r\n", 33), 0);
    loopback_read(base, fd, out, sizeof(out), 2000, &closed);
    ck_assert_int_eq(closed, 1);
    ck_assert_str_eq(out, "");
    close(fd);
    /* A request that completes in time is served on the same kind of connection. */
    ck_assert_int_eq(request("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out, sizeof(out)), 200);
}
END_TEST

static void on_private(struct evhttp_request *req, void *arg)
{
    reply_text(req, arg);
}

START_TEST(test_private_server)
{
    struct sockaddr_storage bound;
    struct http_private *p = http_private_start(base, "127.0.0.1:0", "test address", EVHTTP_REQ_GET | EVHTTP_REQ_POST,
                                                on_private, "private", &bound);
    ck_assert_ptr_nonnull(p);
    int private_port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    ck_assert_int_ne(private_port, 0);
    ck_assert_int_ne(private_port, port);
    char out[4096];
    /* Its own dispatcher: everything reaches it, the public routes do not exist there. */
    ck_assert_uint_gt(loopback_exchange(base, private_port, "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                                        out, sizeof(out)), 0);
    ck_assert_int_eq(loopback_status(out), 200);
    ck_assert_str_eq(seen, "private /healthz 0");
    /* Other methods are refused by evhttp itself (501), never dispatched. */
    seen[0] = '\0';
    loopback_exchange(base, private_port, "PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                      out, sizeof(out));
    ck_assert_int_eq(loopback_status(out), 501);
    ck_assert_str_eq(seen, "");
    http_private_free(p);
    ck_assert_int_eq(loopback_connect(private_port), -1);
    /* A bad or busy address is refused. */
    char busy[32];
    snprintf(busy, sizeof(busy), "127.0.0.1:%d", port);
    ck_assert_ptr_null(http_private_start(base, busy, "busy", EVHTTP_REQ_GET, on_private, "x", &bound));
    ck_assert_ptr_null(http_private_start(base, "nowhere", "bad", EVHTTP_REQ_GET, on_private, "x", &bound));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net_http");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_registration_rules);
    tcase_add_test(tc, test_dispatch_order);
    tcase_add_test(tc, test_builtin_and_routes);
    tcase_add_test(tc, test_header_limit);
    tcase_add_test(tc, test_cors);
    tcase_add_test(tc, test_header_deadline);
    tcase_add_test(tc, test_private_server);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
