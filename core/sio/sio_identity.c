/* Who a connection is: the identity the authenticating plugin sets, kept
 * in one allocation per connection. */
#include <stdlib.h>
#include <string.h>
#include "sio/sio_conn.h"
#include "sio/sio_identity.h"

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

int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity)
{
    if (!identity || !identity->user_id || (identity->n_servers && !identity->servers) ||
        (identity->n_moderates && !identity->moderates))
        return SBR_ERR_INVALID;
    for (size_t i = 0; i < identity->n_servers; i++)
        if (!identity->servers[i])
            return SBR_ERR_INVALID;
    for (size_t i = 0; i < identity->n_moderates; i++)
        if (!identity->moderates[i])
            return SBR_ERR_INVALID;
    struct sio_conn *c = sio_conn_live(conn);
    if (!c)
        return SBR_ERR_GONE;
    sbr_identity *copy = identity_copy(identity);
    if (!copy)
        return SBR_ERR_NOMEM;
    free(c->identity);
    c->identity = copy;
    return SBR_OK;
}

const sbr_identity *sio_api_conn_identity(sbr_conn_id conn)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c ? c->identity : NULL;
}
