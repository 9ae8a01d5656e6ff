/* Hooks by event id, and the chains that run them (see hooks.h). */
#include "hooks/hooks.h"

#include <stdlib.h>

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
    grown[hooks_table[id].n++] = (struct hook){owner, fn, userdata, hooks_next_seq()};
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
    hooks_named_unregister_all(owner);
}

void hooks_free(void)
{
    for (int id = 1; id < SBR_EVENT_COUNT_; id++) {
        free(hooks_table[id].list);
        hooks_table[id].list = NULL;
        hooks_table[id].n = 0;
    }
    hooks_named_free();
}

int hooks_any(enum sbr_event_id id)
{
    return hooks_id_ok(id) && hooks_table[id].n > 0;
}

/* The next hook of the chain, or NULL at its end: the earlier registered of
 * the next generic hook and the next filter, then the handler. */
static const struct hook *hooks_chain_next(struct hook_chain *chain)
{
    const struct hook *generic =
        chain->next < hooks_table[chain->id].n ? &hooks_table[chain->id].list[chain->next] : NULL;
    if (!chain->named)
        return generic ? &hooks_table[chain->id].list[chain->next++] : NULL;
    size_t n_filters;
    const struct hook *filters = hooks_named_filters(chain->named, &n_filters);
    const struct hook *filter = chain->next_filter < n_filters ? &filters[chain->next_filter] : NULL;
    if (generic && (!filter || generic->seq < filter->seq)) {
        chain->next++;
        return generic;
    }
    if (filter) {
        chain->next_filter++;
        return filter;
    }
    if (chain->handler_done)
        return NULL;
    chain->handler_done = 1;
    return hooks_named_handler(chain->named);
}

enum sbr_verdict hooks_chain_run(struct hook_chain *chain)
{
    if (!hooks_id_ok(chain->id))
        return SBR_PASS;
    /* The tables are re-read each turn: a chain resumed later sees the same
     * hooks, because registration ends with on_load. */
    for (const struct hook *h; (h = hooks_chain_next(chain));) {
        struct hook copy = *h;
        int v = copy.fn(chain->id, chain->event, copy.userdata);
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
