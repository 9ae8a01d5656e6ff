/* core/metrics.c: Prometheus text for fixed counters, HTTP requests and
 * plugin metrics; bad names refused; a plugin's series dropped with it. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

static const void *const owner = (const void *)0x1;
static const void *const other = (const void *)0x2;

START_TEST(test_render)
{
    core_metrics.events_in = 5;
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

/* A plugin's series go with it; another plugin's stay. */
START_TEST(test_unregister)
{
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_mine_total", NULL, 1), 0);
    ck_assert_int_eq(metrics_dynamic_set(owner, "superbot_mine", "k=\"v\"", 2), 0);
    ck_assert_int_eq(metrics_dynamic_add(other, "superbot_theirs_total", NULL, 3), 0);
    /* The creator owns a series, whoever adds to it later. */
    ck_assert_int_eq(metrics_dynamic_add(other, "superbot_mine_total", NULL, 1), 0);
    char *text = metrics_render();
    ck_assert_ptr_nonnull(strstr(text, "superbot_mine_total 2\n"));
    free(text);
    metrics_unregister_all(owner);
    text = metrics_render();
    ck_assert_ptr_null(strstr(text, "superbot_mine"));
    ck_assert_ptr_nonnull(strstr(text, "superbot_theirs_total 3\n"));
    free(text);
    /* Created anew after the unload, it starts from zero. */
    ck_assert_int_eq(metrics_dynamic_add(owner, "superbot_mine_total", NULL, 1), 0);
    text = metrics_render();
    ck_assert_ptr_nonnull(strstr(text, "superbot_mine_total 1\n"));
    free(text);
    metrics_free();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core_metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_unregister);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
