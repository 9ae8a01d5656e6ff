/* Hook chains: conf.d order, pass/refuse/consume/pending, resume, removal. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hooks/hooks.h"

static char trace[64];

static int hook_answer(enum sbr_event_id id, void *event, void *userdata)
{
    const char *spec = userdata; /* "<letter><verdict digit>" */
    strncat(trace, spec, 1);
    return spec[1] - '0';
}

static sbr_plugin *const owner_a = (sbr_plugin *)0x1;
static sbr_plugin *const owner_b = (sbr_plugin *)0x2;

static void reset(void)
{
    hooks_unregister_all(owner_a);
    hooks_unregister_all(owner_b);
    trace[0] = '\0';
}

START_TEST(test_chain_order_and_verdicts)
{
    reset();
    ck_assert_int_eq(hooks_any(SBR_EVENT_MESSAGE), 0);
    ck_assert_int_eq(hooks_register(owner_a, SBR_EVENT_MESSAGE, hook_answer, "a0"), SBR_OK);
    ck_assert_int_eq(hooks_register(owner_b, SBR_EVENT_MESSAGE, hook_answer, "b3"), SBR_OK);
    ck_assert_int_eq(hooks_register(owner_a, SBR_EVENT_MESSAGE, hook_answer, "c1"), SBR_OK);
    ck_assert_int_eq(hooks_register(owner_b, SBR_EVENT_MESSAGE, hook_answer, "d2"), SBR_OK);
    ck_assert_int_eq(hooks_any(SBR_EVENT_MESSAGE), 1);
    struct hook_chain chain = {.id = SBR_EVENT_MESSAGE, .next = 0, .event = NULL};
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PENDING);
    ck_assert_str_eq(trace, "ab");
    /* Resumed: continues after the hook that paused it. */
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_REFUSE);
    ck_assert_str_eq(trace, "abc");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_CONSUME);
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    ck_assert_str_eq(trace, "abcd");
    reset();
}
END_TEST

START_TEST(test_all_pass_and_empty)
{
    reset();
    struct hook_chain chain = {.id = SBR_EVENT_CONNECT};
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    hooks_register(owner_a, SBR_EVENT_CONNECT, hook_answer, "a0");
    hooks_register(owner_b, SBR_EVENT_CONNECT, hook_answer, "b0");
    chain.next = 0;
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    ck_assert_str_eq(trace, "ab");
    reset();
}
END_TEST

START_TEST(test_notify_ignores_verdicts)
{
    reset();
    hooks_register(owner_a, SBR_EVENT_DISCONNECT, hook_answer, "a1");
    hooks_register(owner_b, SBR_EVENT_DISCONNECT, hook_answer, "b2");
    hooks_notify(SBR_EVENT_DISCONNECT, NULL);
    ck_assert_str_eq(trace, "ab");
    reset();
}
END_TEST

START_TEST(test_unregister_and_bad_ids)
{
    reset();
    hooks_register(owner_a, SBR_EVENT_RELOAD, hook_answer, "a0");
    hooks_register(owner_b, SBR_EVENT_RELOAD, hook_answer, "b0");
    hooks_unregister_all(owner_a);
    hooks_notify(SBR_EVENT_RELOAD, NULL);
    ck_assert_str_eq(trace, "b");
    ck_assert_int_eq(hooks_register(owner_a, (enum sbr_event_id)0, hook_answer, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_register(owner_a, SBR_EVENT_COUNT_, hook_answer, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_register(owner_a, (enum sbr_event_id)99, hook_answer, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_register(owner_a, SBR_EVENT_RELOAD, NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_any((enum sbr_event_id)99), 0);
    reset();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plugin_hooks");
    TCase *tc = tcase_create("hooks");
    tcase_add_test(tc, test_chain_order_and_verdicts);
    tcase_add_test(tc, test_all_pass_and_empty);
    tcase_add_test(tc, test_notify_ignores_verdicts);
    tcase_add_test(tc, test_unregister_and_bad_ids);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
