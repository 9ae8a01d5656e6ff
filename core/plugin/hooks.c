/* Hooks by event id, in registration order (= conf.d order, since plugins
 * register during their on_load and load in that order). */
#include "plugin/hooks.h"

#include <stdlib.h>

#include "plugin/plugin.h"

struct hook {
    sbr_plugin *owner;
    sbr_hook_fn fn;
    void *userdata;
};

static struct {
    struct hook *list;
    size_t n;
} hooks_table[SBR_EVENT_COUNT_];

static int hooks_id_ok(enum sbr_event_id id)
{
    return id > 0 && id < SBR_EVENT_COUNT_;
}

int hooks_register(sbr_plugin *owner, enum sbr_event_id id, sbr_hook_fn fn, void *userdata)
{
    if (!hooks_id_ok(id) || !fn)
        return SBR_ERR_INVALID;
    struct hook *grown = realloc(hooks_table[id].list, (hooks_table[id].n + 1) * sizeof(*grown));
    if (!grown)
        return SBR_ERR_NOMEM;
    hooks_table[id].list = grown;
    grown[hooks_table[id].n++] = (struct hook){owner, fn, userdata};
    return SBR_OK;
}

void hooks_unregister_all(sbr_plugin *owner)
{
    for (int id = 1; id < SBR_EVENT_COUNT_; id++) {
        size_t kept = 0;
        for (size_t i = 0; i < hooks_table[id].n; i++)
            if (hooks_table[id].list[i].owner != owner)
                hooks_table[id].list[kept++] = hooks_table[id].list[i];
        hooks_table[id].n = kept;
        if (kept == 0) {
            free(hooks_table[id].list);
            hooks_table[id].list = NULL;
        }
    }
}

int hooks_any(enum sbr_event_id id)
{
    return hooks_id_ok(id) && hooks_table[id].n > 0;
}

enum sbr_verdict hooks_chain_run(struct hook_chain *chain)
{
    if (!hooks_id_ok(chain->id))
        return SBR_PASS;
    /* Re-read the table each turn: a chain resumed later sees the same
     * hooks, because registration ends with on_load. */
    while (chain->next < hooks_table[chain->id].n) {
        struct hook h = hooks_table[chain->id].list[chain->next++];
        int v = h.fn(chain->id, chain->event, h.userdata);
        if (v == SBR_REFUSE || v == SBR_CONSUME || v == SBR_PENDING)
            return (enum sbr_verdict)v;
    }
    return SBR_PASS;
}

void hooks_notify(enum sbr_event_id id, void *event)
{
    if (!hooks_id_ok(id))
        return;
    for (size_t i = 0; i < hooks_table[id].n; i++) {
        struct hook h = hooks_table[id].list[i];
        h.fn(id, event, h.userdata);
    }
}
