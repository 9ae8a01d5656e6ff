/* core/metrics.c: Prometheus text for fixed counters, HTTP requests and
 * plugin metrics; bad names refused. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

START_TEST(test_render)
{
    core_metrics.events_in = 5;
    metrics_http_request("/healthz", 200);
    metrics_http_request("/healthz", 200);
    metrics_http_request("unmatched", 404);
    ck_assert_int_eq(metrics_dynamic_add("superbot_b_total", NULL, 2), 0);
    ck_assert_int_eq(metrics_dynamic_add("superbot_b_total", NULL, 1.5), 0);
    ck_assert_int_eq(metrics_dynamic_add("superbot_a_total", "reason=\"x\"", 1), 0);
    ck_assert_int_eq(metrics_dynamic_set("superbot_g", NULL, 7), 0);
    ck_assert_int_eq(metrics_dynamic_set("superbot_g", NULL, 3), 0);
    ck_assert_int_eq(metrics_dynamic_add("superbot_a_total", "reason=\"y\"", 4), 0);
    ck_assert_int_eq(metrics_dynamic_set("superbot_b_total", NULL, 1), -1); /* a counter stays a counter */
    ck_assert_int_eq(metrics_dynamic_add("bad name", NULL, 1), -1);
    ck_assert_int_eq(metrics_dynamic_add("9starts_with_digit", NULL, 1), -1);
    ck_assert_int_eq(metrics_dynamic_add("superbot_x", "a=\"1\"}\nfake 1", 1), -1);
    char *text = metrics_render();
    ck_assert_ptr_nonnull(text);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE superbot_events_in_total counter\nsuperbot_events_in_total 5\n"));
    ck_assert_ptr_nonnull(strstr(text, "superbot_http_requests_total{route=\"/healthz\",status=\"200\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(text, "superbot_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE superbot_a_total counter\nsuperbot_a_total{reason=\"x\"} 1\n"
                                       "superbot_a_total{reason=\"y\"} 4\n# TYPE superbot_b_total counter\n"
                                       "superbot_b_total 3.5\n# TYPE superbot_g gauge\nsuperbot_g 3\n"));
    ck_assert_ptr_null(strstr(text, "fake"));
    free(text);
    metrics_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_render);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
