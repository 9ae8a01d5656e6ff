/* Hook chains: conf.d order, pass/refuse/consume/pending, resume, removal;
 * client events by name: one handler per name, filters merged with the
 * generic message hooks in registration order, the handler last. */
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
static sbr_plugin *const owner_c = (sbr_plugin *)0x3;

static void reset(void)
{
    hooks_unregister_all(owner_a);
    hooks_unregister_all(owner_b);
    hooks_unregister_all(owner_c);
    trace[0] = '\0';
}

/* A message chain for event `name`, as Socket.IO starts one. */
static struct hook_chain message_chain(const char *name)
{
    struct hook_chain chain = {.id = SBR_EVENT_MESSAGE, .named = hooks_named_find(name)};
    return chain;
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

START_TEST(test_named_order)
{
    reset();
    /* conf.d order: a (generic), b (filters send), c (handles send, filters
     * it too, earlier than its handler), then a generic hook of b. */
    ck_assert_int_eq(hooks_register(owner_a, SBR_EVENT_MESSAGE, hook_answer, "g0"), SBR_OK);
    ck_assert_int_eq(hooks_named_filter(owner_b, "send", hook_answer, "f0"), SBR_OK);
    ck_assert_int_eq(hooks_named_filter(owner_c, "send", hook_answer, "F0"), SBR_OK);
    ck_assert_int_eq(hooks_named_handle(owner_c, "send", hook_answer, "H2", NULL), SBR_OK);
    ck_assert_int_eq(hooks_register(owner_b, SBR_EVENT_MESSAGE, hook_answer, "G0"), SBR_OK);
    ck_assert_int_eq(hooks_named_handle(owner_a, "other", hook_answer, "O2", NULL), SBR_OK);
    struct hook_chain chain = message_chain("send");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_CONSUME);
    ck_assert_str_eq(trace, "gfFGH");
    /* Another name: its handler only, after the generic hooks. */
    trace[0] = '\0';
    chain = message_chain("other");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_CONSUME);
    ck_assert_str_eq(trace, "gGO");
    /* A name nobody claimed: the generic hooks, then nothing (unknown_event). */
    trace[0] = '\0';
    ck_assert_ptr_null(hooks_named_find("nobody"));
    chain = message_chain("nobody");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    ck_assert_str_eq(trace, "gG");
    reset();
}
END_TEST

START_TEST(test_named_refusal_and_pending)
{
    reset();
    ck_assert_int_eq(hooks_named_filter(owner_a, "send", hook_answer, "a3"), SBR_OK);
    ck_assert_int_eq(hooks_named_filter(owner_b, "send", hook_answer, "b1"), SBR_OK);
    ck_assert_int_eq(hooks_named_handle(owner_c, "send", hook_answer, "H2", NULL), SBR_OK);
    struct hook_chain chain = message_chain("send");
    /* Paused by a, resumed: b refuses, and the handler never runs. */
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PENDING);
    ck_assert_str_eq(trace, "a");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_REFUSE);
    ck_assert_str_eq(trace, "ab");
    /* A resumed chain past its handler ends. */
    hooks_unregister_all(owner_b);
    trace[0] = '\0';
    chain = message_chain("send");
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PENDING);
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_CONSUME);
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    ck_assert_str_eq(trace, "aH");
    reset();
}
END_TEST

START_TEST(test_named_claims)
{
    reset();
    sbr_plugin *holder = NULL;
    ck_assert_int_eq(hooks_named_handle(owner_a, "join", hook_answer, "a0", &holder), SBR_OK);
    ck_assert_ptr_null(holder);
    /* A second claim, by anyone, is refused and names the holder. */
    ck_assert_int_eq(hooks_named_handle(owner_b, "join", hook_answer, "b0", &holder), SBR_ERR_STATE);
    ck_assert_ptr_eq(holder, owner_a);
    holder = NULL;
    ck_assert_int_eq(hooks_named_handle(owner_a, "join", hook_answer, "a0", &holder), SBR_ERR_STATE);
    ck_assert_ptr_eq(holder, owner_a);
    /* Filters are not claims. */
    ck_assert_int_eq(hooks_named_filter(owner_b, "join", hook_answer, "b0"), SBR_OK);
    ck_assert_int_eq(hooks_named_filter(owner_c, "join", hook_answer, "c0"), SBR_OK);
    /* Bad names and callbacks. */
    char longest[300];
    memset(longest, 'x', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    ck_assert_int_eq(hooks_named_handle(owner_a, "", hook_answer, NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_named_handle(owner_a, NULL, hook_answer, NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_named_handle(owner_a, longest, hook_answer, NULL, NULL), SBR_ERR_INVALID);
    ck_assert_int_eq(hooks_named_filter(owner_a, "join", NULL, NULL), SBR_ERR_INVALID);
    /* Unloading the holder frees the name; its entry stays for chains in flight. */
    const struct hook_named *entry = hooks_named_find("join");
    struct hook_chain chain = message_chain("join");
    hooks_unregister_all(owner_a);
    ck_assert_ptr_eq(hooks_named_find("join"), entry);
    ck_assert_ptr_null(hooks_named_handler(entry));
    ck_assert_int_eq(hooks_chain_run(&chain), SBR_PASS);
    ck_assert_str_eq(trace, "bc");
    ck_assert_int_eq(hooks_named_handle(owner_b, "join", hook_answer, "b0", NULL), SBR_OK);
    hooks_unregister_all(owner_b);
    size_t n;
    hooks_named_filters(entry, &n);
    ck_assert_uint_eq(n, 1); /* c's */
    reset();
    hooks_free();
    ck_assert_ptr_null(hooks_named_find("join"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hooks");
    TCase *tc = tcase_create("hooks");
    tcase_add_test(tc, test_chain_order_and_verdicts);
    tcase_add_test(tc, test_all_pass_and_empty);
    tcase_add_test(tc, test_notify_ignores_verdicts);
    tcase_add_test(tc, test_unregister_and_bad_ids);
    tcase_add_test(tc, test_named_order);
    tcase_add_test(tc, test_named_refusal_and_pending);
    tcase_add_test(tc, test_named_claims);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
