/* Private to the fake host's files: what they share. */
#ifndef SBR_TEST_FAKE_HOST_PRIVATE_H
#define SBR_TEST_FAKE_HOST_PRIVATE_H

#include "fake_host.h"

#include <stdio.h>
#include <stdlib.h>

/* A misuse of the services table fails the test.  FAKE_HOST_STANDALONE
 * builds the host into a program without check and without the event loop
 * (tests/unit/channels/fake_host.c, for the api_body fuzzer): it aborts. */
#ifdef FAKE_HOST_STANDALONE
#define fake_check(cond, ...) \
    ((cond) ? (void)0 : (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort()))
#else
#include <check.h>
#define fake_check(cond, ...) ck_assert_msg(cond, __VA_ARGS__)
#endif

/* A growable array: FAKE_ARRAY(type, name) declares name, n_name, cap_name. */
#define FAKE_ARRAY(type, name) type *name; size_t n_##name, cap_##name
#define FAKE_PUSH(name, item)                                                            \
    do {                                                                                 \
        if (n_##name == cap_##name) {                                                    \
            cap_##name = cap_##name ? cap_##name * 2 : 16;                               \
            name = realloc(name, cap_##name * sizeof *name);                             \
        }                                                                                \
        name[n_##name++] = (item);                                                       \
    } while (0)

struct sbr_plugin {
    char name[64];
    const sbr_plugin_descriptor *desc;
    void *handle;
    char **keys;
    char **values;
    size_t n_config;
    int loading;
    int loaded; /* on_load succeeded: on_unload is due */
};

/* A hook by event id, or (name set) a client event's filter or handler. */
enum fake_hook_kind { FAKE_HOOK_ID, FAKE_HOOK_FILTER, FAKE_HOOK_HANDLER };
struct fake_hook { sbr_plugin *owner; enum sbr_event_id id; sbr_hook_fn fn; void *ud; int kind; char *name; };

/* A callback the queue runs later: a state reply, a bus message or a close. */
struct fake_call {
    sbr_state_done_fn done;
    void *ud;
    sbr_state_reply reply;
    char *value;
    char **fields;
    char **values;
    char *topic; /* a bus message when set */
    char *data;
    size_t len;
    sbr_conn_id close; /* a close asked with conn_disconnect when set */
};

/* Every registered hook, in registration (conf.d) order. */
extern struct fake_hook *fake_hooks;
extern size_t n_fake_hooks;

char *fake_strdup(const char *s);
/* Queue a call (done may be NULL) with an SBR_OK reply to fill in. */
struct fake_call *fake_queue(sbr_state_done_fn done, void *ud);
/* Run every hook of an event, ignoring verdicts. */
void fake_notify(enum sbr_event_id id, void *event);
void fake_log_line(sbr_plugin *self, enum sbr_log_level level, const char *fmt, ...) SBR_PRINTF(3, 4);

/* Each file fills its part of the services table and frees its state. */
void fake_conn_api(sbr_api *api);
void fake_conn_reset(void);
void fake_conn_close(sbr_conn_id conn, const char *reason);
void fake_http_api(sbr_api *api);
void fake_http_reset(void);
void fake_state_api(sbr_api *api);
void fake_state_reset(void);
void fake_state_deliver(const char *topic, const char *data, size_t len);

#endif
