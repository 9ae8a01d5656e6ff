/* Namespaces: "/" and those plugins add (see sio_namespace.h). */
#include <stdlib.h>
#include <string.h>
#include "sio/sio_conn.h"
#include "sio/sio_namespace.h"

#define SIO_MAX_NAMESPACES 64

/* Connections point at these names for their whole life, so a namespace
 * whose plugin unloaded is closed, not freed. */
static struct {
    char *names[SIO_MAX_NAMESPACES];
    sbr_plugin *owners[SIO_MAX_NAMESPACES];
    unsigned char closed[SIO_MAX_NAMESPACES];
    size_t n;
} namespaces;

/* The open namespace of that name, or NULL. */
const char *sio_namespace_find(const char *nsp)
{
    for (size_t i = 0; i < namespaces.n; i++)
        if (!namespaces.closed[i] && strcmp(namespaces.names[i], nsp) == 0)
            return namespaces.names[i];
    return NULL;
}

void sio_unregister_all(sbr_plugin *owner)
{
    for (size_t i = 0; owner && i < namespaces.n; i++)
        if (namespaces.owners[i] == owner)
            namespaces.closed[i] = 1;
}

int sio_api_namespace_add(sbr_plugin *self, const char *nsp)
{
    if (!nsp || nsp[0] != '/' || strlen(nsp) > SIO_NSP_MAX || strchr(nsp, ','))
        return SBR_ERR_INVALID;
    if (sio_namespace_find(nsp))
        return SBR_OK;
    if (namespaces.n == SIO_MAX_NAMESPACES)
        return SBR_ERR_LIMIT;
    char *copy = strdup(nsp);
    if (!copy)
        return SBR_ERR_NOMEM;
    namespaces.owners[namespaces.n] = self;
    namespaces.names[namespaces.n++] = copy;
    return SBR_OK;
}

const char *sio_api_conn_namespace(sbr_conn_id conn)
{
    struct sio_conn *c = sio_conn_live(conn);
    return c ? c->nsp : NULL;
}

int sio_namespaces_init(void)
{
    return sio_namespace_find("/") || sio_api_namespace_add(NULL, "/") == SBR_OK ? 0 : -1;
}

void sio_namespaces_free(void)
{
    for (size_t i = 0; i < namespaces.n; i++)
        free(namespaces.names[i]);
    memset(&namespaces, 0, sizeof(namespaces));
}
