/* Namespaces (private to core/sio): "/" and those plugins add; a
 * plugin's close when it unloads (connections keep pointing at the name,
 * so names live until the server ends).  Calls sio_conn.c only. */
#ifndef SBR_SIO_NAMESPACE_H
#define SBR_SIO_NAMESPACE_H

#include <superbot-realtime/plugin.h>

/* The open namespace of that name (the interned copy), or NULL. */
const char *sio_namespace_find(const char *nsp);
/* "/" (the core's); 0 or -1. */
int sio_namespaces_init(void);
void sio_namespaces_free(void);
/* A plugin is unloaded: its namespaces accept no new connection. */
void sio_unregister_all(sbr_plugin *owner);
/* Host-table services (see struct sbr_api). */
int sio_api_namespace_add(sbr_plugin *self, const char *nsp);
const char *sio_api_conn_namespace(sbr_conn_id conn);

#endif
