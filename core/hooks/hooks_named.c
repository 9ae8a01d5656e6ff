/* Client events by name: the handler and the filters of each name, in one
 * hash table so that a message finds its hooks with one lookup (see
 * hooks.h).  Entries are emptied, not freed, when their owners go: a
 * message waiting on a pending hook may still point at one. */
#include "hooks/hooks_named.h"

#include <stdlib.h>
#include <string.h>

#include "hashtab.h"

/* Socket.IO puts no bound on a name; a claim longer than this is a mistake. */
#define HOOKS_NAME_MAX 255

struct hook_named {
    struct hashtab_node node; /* keyed by name */
    struct hook handler;      /* fn NULL: none */
    struct hook *filters;
    size_t n_filters;
    char name[];
};

static struct hashtab hooks_names;
static uint64_t hooks_seq;

uint64_t hooks_next_seq(void)
{
    return ++hooks_seq;
}

const struct hook_named *hooks_named_find(const char *name)
{
    struct hashtab_node *n = hooks_names.count ? hashtab_find(&hooks_names, name) : NULL;
    return n ? HASHTAB_ENTRY(n, struct hook_named, node) : NULL;
}

static struct hook_named *hooks_named_get(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > HOOKS_NAME_MAX)
        return NULL;
    struct hook_named *e = (struct hook_named *)hooks_named_find(name);
    if (e)
        return e;
    e = calloc(1, sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->name, name, len + 1);
    e->node.key = e->name;
    if (hashtab_insert(&hooks_names, &e->node) != 0) {
        free(e);
        return NULL;
    }
    return e;
}

static int hooks_named_args_ok(const char *name, sbr_hook_fn fn)
{
    return fn && name && *name && strlen(name) <= HOOKS_NAME_MAX;
}

int hooks_named_handle(sbr_plugin *owner, const char *name, sbr_hook_fn fn, void *userdata, sbr_plugin **holder)
{
    if (!hooks_named_args_ok(name, fn))
        return SBR_ERR_INVALID;
    struct hook_named *e = hooks_named_get(name);
    if (!e)
        return SBR_ERR_NOMEM;
    if (e->handler.fn) {
        if (holder)
            *holder = e->handler.owner;
        return SBR_ERR_STATE;
    }
    e->handler = (struct hook){owner, fn, userdata, hooks_next_seq()};
    return SBR_OK;
}

int hooks_named_filter(sbr_plugin *owner, const char *name, sbr_hook_fn fn, void *userdata)
{
    if (!hooks_named_args_ok(name, fn))
        return SBR_ERR_INVALID;
    struct hook_named *e = hooks_named_get(name);
    if (!e)
        return SBR_ERR_NOMEM;
    struct hook *grown = realloc(e->filters, (e->n_filters + 1) * sizeof(*grown));
    if (!grown)
        return SBR_ERR_NOMEM;
    e->filters = grown;
    grown[e->n_filters++] = (struct hook){owner, fn, userdata, hooks_next_seq()};
    return SBR_OK;
}

const struct hook *hooks_named_filters(const struct hook_named *named, size_t *n)
{
    *n = named->n_filters;
    return named->filters;
}

const struct hook *hooks_named_handler(const struct hook_named *named)
{
    return named->handler.fn ? &named->handler : NULL;
}

void hooks_named_unregister_all(sbr_plugin *owner)
{
    for (struct hashtab_node *n = hashtab_next(&hooks_names, NULL); n; n = hashtab_next(&hooks_names, n)) {
        struct hook_named *e = HASHTAB_ENTRY(n, struct hook_named, node);
        if (e->handler.fn && e->handler.owner == owner)
            memset(&e->handler, 0, sizeof(e->handler));
        size_t kept = 0;
        for (size_t i = 0; i < e->n_filters; i++)
            if (e->filters[i].owner != owner)
                e->filters[kept++] = e->filters[i];
        e->n_filters = kept;
    }
}

void hooks_named_free(void)
{
    struct hashtab_node *n, *next;
    for (n = hashtab_next(&hooks_names, NULL); n; n = next) {
        next = hashtab_next(&hooks_names, n);
        struct hook_named *e = HASHTAB_ENTRY(n, struct hook_named, node);
        free(e->filters);
        free(e);
    }
    hashtab_free(&hooks_names);
    memset(&hooks_names, 0, sizeof(hooks_names));
}
