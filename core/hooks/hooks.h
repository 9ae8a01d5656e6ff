/* Hooks (layer 1, private): who registered for which event, and the chains
 * that run them.
 *
 * Offers: hooks by event id, in registration order (= conf.d order, since
 * plugins register from their on_load and load in that order); client
 * events by name, each with at most one handler and any number of filters;
 * refusable chains that stop (refuse, consume) or pause (pending) and are
 * resumed later from where they stopped.
 * Calls: the base layer only.  An owner is an opaque pointer (the plugin
 * record), compared and never looked into. */
#ifndef SBR_CORE_HOOKS_H
#define SBR_CORE_HOOKS_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

#include "hooks/hooks_named.h"

/* A chain in progress: embed it in the object the event is about. */
struct hook_chain {
    enum sbr_event_id id;
    size_t next;                     /* generic hooks of `id` run so far */
    void *event;                     /* the event struct, owned by the caller */
    const struct hook_named *named;  /* messages: the event name's entry, or NULL */
    size_t next_filter;              /* its filters run so far */
    int handler_done;                /* its handler ran */
};

/* Start (next = 0, the rest zero) or continue a chain: runs hooks until one
 * answers something other than SBR_PASS or the hooks run out.  A message
 * chain runs the generic SBR_EVENT_MESSAGE hooks and the name's filters
 * merged in conf.d order, then the name's handler.  Returns SBR_PASS at the
 * end, or SBR_REFUSE / SBR_CONSUME / SBR_PENDING from the hook that stopped
 * it (the chain is then past it). */
enum sbr_verdict hooks_chain_run(struct hook_chain *chain);

/* Run every hook of a non-refusable event (return values ignored). */
void hooks_notify(enum sbr_event_id id, void *event);

/* 1 if any hook is registered for id. */
int hooks_any(enum sbr_event_id id);

int hooks_register(sbr_plugin *owner, enum sbr_event_id id, sbr_hook_fn fn, void *userdata);
/* Remove everything owner registered, by id and by name. */
void hooks_unregister_all(sbr_plugin *owner);
/* Free every table (at exit). */
void hooks_free(void);

#endif
