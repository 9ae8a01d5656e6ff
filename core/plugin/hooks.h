/* Hook registry and dispatch (private).  Hooks of an event run in conf.d
 * order; a refusable chain can stop (refuse, consume) or pause (pending) and
 * be resumed later from where it stopped. */
#ifndef SBR_CORE_HOOKS_H
#define SBR_CORE_HOOKS_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

/* A chain in progress: embed it in the object the event is about. */
struct hook_chain {
    enum sbr_event_id id;
    size_t next;   /* index of the next hook to run */
    void *event;   /* the event struct, owned by the caller */
};

/* Start (next = 0) or continue a chain: runs hooks from chain->next until
 * one answers something other than SBR_PASS or the hooks run out.
 * Returns the verdict: SBR_PASS at the end, or SBR_REFUSE / SBR_CONSUME /
 * SBR_PENDING from the hook that stopped it (chain->next is then past it). */
enum sbr_verdict hooks_chain_run(struct hook_chain *chain);

/* Run every hook of a non-refusable event (return values ignored). */
void hooks_notify(enum sbr_event_id id, void *event);

/* 1 if any hook is registered for id. */
int hooks_any(enum sbr_event_id id);

int hooks_register(sbr_plugin *owner, enum sbr_event_id id, sbr_hook_fn fn, void *userdata);
/* Remove everything owner registered. */
void hooks_unregister_all(sbr_plugin *owner);

#endif
