/* Helpers shared by the bus tests: a reply recorder and waits on it. */
#ifndef SBR_TEST_BUS_TEST_H
#define SBR_TEST_BUS_TEST_H

#include "fake_host.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define BUS_TEST_MAX_FIELDS 64

struct bus_result {
    volatile int done; /* callbacks received */
    int status;
    int found;
    char value[256];
    size_t value_len;
    int64_t count;
    int changed;
    int acquired;
    int64_t remaining_ms;
    size_t n;
    char fields[BUS_TEST_MAX_FIELDS][64];
    char values[BUS_TEST_MAX_FIELDS][64];
};

static inline void bus_test_record(const sbr_state_reply *r, void *ud)
{
    struct bus_result *res = ud;
    res->status = r->status;
    res->found = r->found;
    res->value_len = r->value_len;
    res->value[0] = '\0';
    if (r->value && r->value_len < sizeof(res->value)) {
        memcpy(res->value, r->value, r->value_len);
        res->value[r->value_len] = '\0';
    }
    res->count = r->count;
    res->changed = r->changed;
    res->acquired = r->acquired;
    res->remaining_ms = r->remaining_ms;
    res->n = r->n;
    for (size_t i = 0; i < r->n && i < BUS_TEST_MAX_FIELDS; i++) {
        snprintf(res->fields[i], sizeof(res->fields[i]), "%s", r->fields[i]);
        snprintf(res->values[i], sizeof(res->values[i]), "%s", r->values[i]);
    }
    res->done++;
}

/* Run the loop until the reply came; fail the test otherwise. */
#define BUS_WAIT(res)                                                                   \
    ck_assert_msg(fake_run_until(&(res)->done, 3000), "no reply within 3 s")

/* The value of a field in a map_get_all result, or NULL. */
static inline const char *bus_test_field(const struct bus_result *res, const char *field)
{
    for (size_t i = 0; i < res->n && i < BUS_TEST_MAX_FIELDS; i++)
        if (strcmp(res->fields[i], field) == 0)
            return res->values[i];
    return NULL;
}

#endif
