/* Who a connection is: the identity the authenticating plugin sets, kept
 * in one allocation per connection; replacing it tells the plugins what
 * changed (SBR_EVENT_IDENTITY). */
#include <stdlib.h>
#include <string.h>
#include "hooks/hooks.h"
#include "sio/sio_conn.h"
#include "sio/sio_identity.h"
#include "util/id_diff.h"

/* One allocation: the struct, the pointer arrays, then the strings. */
static sbr_identity *identity_copy(const sbr_identity *in)
{
    size_t total = sizeof(sbr_identity);
    total += (in->n_servers + in->n_moderates) * sizeof(char *);
    total += strlen(in->user_id) + 1 + (in->session_id ? strlen(in->session_id) + 1 : 0);
    for (size_t i = 0; i < in->n_servers; i++)
        total += strlen(in->servers[i]) + 1;
    for (size_t i = 0; i < in->n_moderates; i++)
        total += strlen(in->moderates[i]) + 1;
    char *mem = calloc(1, total);
    if (!mem)
        return NULL;
    sbr_identity *out = (sbr_identity *)mem;
    const char **servers = (const char **)(mem + sizeof(*out));
    const char **moderates = servers + in->n_servers;
    char *p = (char *)(moderates + in->n_moderates);
    out->struct_size = sizeof(*out);
    out->user_id = p;
    p = stpcpy(p, in->user_id) + 1;
    if (in->session_id) {
        out->session_id = p;
        p = stpcpy(p, in->session_id) + 1;
    }
    for (size_t i = 0; i < in->n_servers; i++) {
        servers[i] = p;
        p = stpcpy(p, in->servers[i]) + 1;
    }
    for (size_t i = 0; i < in->n_moderates; i++) {
        moderates[i] = p;
        p = stpcpy(p, in->moderates[i]) + 1;
    }
    out->servers = in->n_servers ? servers : NULL;
    out->n_servers = in->n_servers;
    out->moderates = in->n_moderates ? moderates : NULL;
    out->n_moderates = in->n_moderates;
    out->expires_at = in->expires_at;
    return out;
}

static int identity_valid(const sbr_identity *identity)
{
    if (!identity || !identity->user_id || (identity->n_servers && !identity->servers) ||
        (identity->n_moderates && !identity->moderates))
        return 0;
    for (size_t i = 0; i < identity->n_servers; i++)
        if (!identity->servers[i])
            return 0;
    for (size_t i = 0; i < identity->n_moderates; i++)
        if (!identity->moderates[i])
            return 0;
    return 1;
}

struct identity_change {
    struct id_diff servers;
    struct id_diff moderates;
};

static int identity_change_compute(const sbr_identity *previous, const sbr_identity *current,
                                   struct identity_change *change)
{
    if (id_diff_compute(previous->servers, previous->n_servers, current->servers, current->n_servers,
                        &change->servers) != 0)
        return SBR_ERR_NOMEM;
    if (id_diff_compute(previous->moderates, previous->n_moderates, current->moderates, current->n_moderates,
                        &change->moderates) != 0) {
        id_diff_free(&change->servers);
        return SBR_ERR_NOMEM;
    }
    return SBR_OK;
}

/* SBR_EVENT_IDENTITY; the hooks see `current` in place, and may not
 * replace it again underneath the event they were given. */
static void identity_notify(struct sio_conn *c, const sbr_identity *previous, const sbr_identity *current,
                            const struct identity_change *change)
{
    sbr_event_identity ev = {
        .struct_size = sizeof(ev),
        .conn = c->id,
        .previous = previous,
        .current = current,
        .servers_added = change->servers.added,
        .n_servers_added = change->servers.n_added,
        .servers_removed = change->servers.removed,
        .n_servers_removed = change->servers.n_removed,
        .moderates_added = change->moderates.added,
        .n_moderates_added = change->moderates.n_added,
        .moderates_removed = change->moderates.removed,
        .n_moderates_removed = change->moderates.n_removed,
    };
    c->identity_notifying = 1;
    hooks_notify(SBR_EVENT_IDENTITY, &ev);
    c->identity_notifying = 0;
}

int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity)
{
    if (!identity_valid(identity))
        return SBR_ERR_INVALID;
    struct sio_conn *c = sio_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    if (c->identity_notifying)
        return SBR_ERR_STATE;
    /* Presence, typing and the rooms are keyed by user: a connection's user never changes. */
    sbr_identity *previous = c->identity;
    if (previous && strcmp(previous->user_id, identity->user_id) != 0)
        return SBR_ERR_INVALID;
    sbr_identity *copy = identity_copy(identity);
    if (!copy)
        return SBR_ERR_NOMEM;
    /* Nobody to tell (a core without plugins that hook it): no diff either. */
    int tell = previous && hooks_any(SBR_EVENT_IDENTITY);
    struct identity_change change;
    if (tell && identity_change_compute(previous, copy, &change) != SBR_OK) {
        free(copy);
        return SBR_ERR_NOMEM;
    }
    c->identity = copy;
    if (tell) {
        identity_notify(c, previous, copy, &change);
        id_diff_free(&change.servers);
        id_diff_free(&change.moderates);
    }
    free(previous);
    return SBR_OK;
}

const sbr_identity *sio_api_conn_identity(sbr_conn_id conn)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c ? c->identity : NULL;
}
