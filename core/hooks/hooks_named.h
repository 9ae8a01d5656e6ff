/* Client events by name (private to core/hooks): one handler and any
 * number of filters per name, in one hash table; and the registration order
 * shared with the hooks by event id (hooks.h).  Calls the base layer only. */
#ifndef SBR_CORE_HOOKS_NAMED_H
#define SBR_CORE_HOOKS_NAMED_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

/* One registered callback; `seq` orders hooks of different lists. */
struct hook {
    sbr_plugin *owner;
    sbr_hook_fn fn;
    void *userdata;
    uint64_t seq;
};

/* The handler and filters of one client event name.  An entry lives until
 * hooks_named_free, so a chain may keep a pointer to it. */
struct hook_named;

/* The next registration sequence number (shared by every table). */
uint64_t hooks_next_seq(void);

/* Claim event `name` for owner's handler.  SBR_ERR_STATE when another owner
 * holds it (*holder then names that owner), SBR_ERR_INVALID for an empty or
 * overlong name or a NULL fn. */
int hooks_named_handle(sbr_plugin *owner, const char *name, sbr_hook_fn fn, void *userdata, sbr_plugin **holder);
/* Add a filter for event `name`, run before its handler. */
int hooks_named_filter(sbr_plugin *owner, const char *name, sbr_hook_fn fn, void *userdata);
/* The entry of a name, or NULL when nobody handles or filters it. */
const struct hook_named *hooks_named_find(const char *name);
/* Its filters (in registration order) and handler (NULL: none). */
const struct hook *hooks_named_filters(const struct hook_named *named, size_t *n);
const struct hook *hooks_named_handler(const struct hook_named *named);
void hooks_named_unregister_all(sbr_plugin *owner);
void hooks_named_free(void);

#endif
