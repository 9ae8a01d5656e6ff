/* core/metrics.c: Prometheus text for the fixed counters (with the renamed
 * ones' deprecated aliases), HTTP requests and plugin metrics with their
 * declared help and type; bad or reserved names refused; a plugin's series
 * and names dropped with it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const void *const owner = (const void *)0x1;
static const void *const other = (const void *)0x2;

#define HAS(text, s) ck_assert_msg(strstr((text), (s)) != NULL, "missing:\n%s\nin:\n%s", (s), (text))

START_TEST(test_render)
{
    core_metrics.events_in = 5;
    core_metrics.bytes_in = 7;
    metrics_http_request("/healthz", 200);
    metrics_http_request("/healthz", 200);
    metrics_http_request("unmatched", 404);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_b_total", NULL, 2), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_b_total", NULL, 1.5), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_a_total", "reason=\"x\"", 1), 0);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_g", NULL, 7), 0);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_g", NULL, 3), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_a_total", "reason=\"y\"", 4), 0);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_b_total", NULL, 1), -1); /* a counter stays a counter */
    ck_assert_int_eq(metrics_dynamic_add(owner, "bad name", NULL, 1), -1);
    ck_assert_int_eq(metrics_dynamic_add(owner, "9starts_with_digit", NULL, 1), -1);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_x", "a=\"1\"}\nfake 1", 1), -1);
    char *text = metrics_render();
    ck_assert_ptr_nonnull(text);
    HAS(text, "# HELP superbot_received_events_total Client events received\n"
              "# TYPE superbot_received_events_total counter\nsuperbot_received_events_total 5\n");
    HAS(text, "# TYPE superbot_received_bytes_total counter\nsuperbot_received_bytes_total 7\n");
    /* The old names, one release more. */
    HAS(text, "# HELP superbot_events_in_total Deprecated alias of superbot_received_events_total, removed in the "
              "next release\n# TYPE superbot_events_in_total counter\nsuperbot_events_in_total 5\n");
    HAS(text, "\nsuperbot_bytes_in_total 7\n");
    HAS(text, "# HELP superbot_http_requests_total HTTP requests by route pattern and status\n");
    HAS(text, "superbot_http_requests_total{route=\"/healthz\",status=\"200\"} 2\n");
    HAS(text, "superbot_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n");
    /* Undeclared plugin metrics still get a HELP line, in name order. */
    HAS(text, "# TYPE superbot_a_total counter\nsuperbot_a_total{reason=\"x\"} 1\n"
              "superbot_a_total{reason=\"y\"} 4\n# HELP superbot_b_total ");
    HAS(text, "# TYPE superbot_b_total counter\nsuperbot_b_total 3.5\n# HELP superbot_g ");
    HAS(text, "# TYPE superbot_g gauge\nsuperbot_g 3\n");
    ck_assert_ptr_null(strstr(text, "fake"));
    /* Every metric line follows its own HELP and TYPE. */
    size_t helps = 0, types = 0;
    for (const char *p = text; (p = strstr(p, "# HELP ")); p++)
        helps++;
    for (const char *p = text; (p = strstr(p, "# TYPE ")); p++)
        types++;
    ck_assert_uint_eq(helps, types);
    free(text);
    metrics_free();
}
END_TEST

START_TEST(test_declare)
{
    ck_assert_int_eq(metrics_declare(owner, "superbot_d_total", 0, "Things done"), 0);
    ck_assert_int_eq(metrics_declare(owner, "superbot_d_total", 0, "Things done, said again"), 0);
    ck_assert_int_eq(metrics_declare(owner, "superbot_d_total", 1, "Now a gauge"), -1);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_d_total", NULL, 1), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_level", 1, "A level"), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_level", NULL, 1), -1);
    /* Help is one line without backslashes; names are valid and not the core's. */
    ck_assert_int_eq(metrics_declare(owner, "superbot_e_total", 0, "two\nlines"), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_e_total", 0, "back\\slash"), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_e_total", 0, ""), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_e total", 0, "x"), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_connections", 1, "x"), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_received_bytes_total", 0, "x"), -1);
    ck_assert_int_eq(metrics_declare(owner, "superbot_bytes_in_total", 0, "x"), -1);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_http_requests_total", NULL, 1), -1);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_plugin_info", NULL, 1), -1);
    /* Used before its declaration: the declaration still applies. */
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_early_total", "k=\"v\"", 2), 0);
    ck_assert_int_eq(metrics_declare(owner, "superbot_early_total", 0, "Declared after its first use"), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_d_total", NULL, 0), 0);
    char *text = metrics_render();
    HAS(text, "# HELP superbot_d_total Things done, said again\n# TYPE superbot_d_total counter\nsuperbot_d_total 0\n");
    /* A declared family without a series has its HELP and TYPE only. */
    HAS(text, "# HELP superbot_level A level\n# TYPE superbot_level gauge\n");
    ck_assert_ptr_null(strstr(text, "\nsuperbot_level "));
    HAS(text, "# HELP superbot_early_total Declared after its first use\n# TYPE superbot_early_total counter\n"
              "superbot_early_total{k=\"v\"} 2\n");
    ck_assert_ptr_null(strstr(text, "superbot_e_total"));
    free(text);
    metrics_free();
}
END_TEST

/* A plugin's series and the names it introduced go with it; another
 * plugin's stay. */
START_TEST(test_unregister)
{
    ck_assert_int_eq(metrics_declare(owner, "superbot_mine_total", 0, "Mine"), 0);
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_mine_total", NULL, 1), 0);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_mine", "k=\"v\"", 2), 0);
    ck_assert_int_eq(metrics_dynamic_add(other, "superbot_theirs_total", NULL, 3), 0);
    /* The creator owns a series, whoever adds to it later. */
    ck_assert_int_eq(metrics_dynamic_add(other, "superbot_mine_total", NULL, 1), 0);
    /* owner's series in other's family. */
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_theirs_total", "by=\"owner\"", 5), 0);
    char *text = metrics_render();
    HAS(text, "superbot_mine_total 2\n");
    free(text);
    metrics_unregister_all(owner);
    text = metrics_render();
    ck_assert_ptr_null(strstr(text, "superbot_mine"));
    ck_assert_ptr_null(strstr(text, "by=\"owner\""));
    HAS(text, "# TYPE superbot_theirs_total counter\nsuperbot_theirs_total 3\n");
    free(text);
    /* Created anew after the unload, it starts from zero, undeclared. */
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_mine_total", NULL, 1), 0);
    text = metrics_render();
    HAS(text, "superbot_mine_total 1\n");
    ck_assert_ptr_null(strstr(text, "# HELP superbot_mine_total Mine\n"));
    free(text);
    metrics_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_unregister);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_declare);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
