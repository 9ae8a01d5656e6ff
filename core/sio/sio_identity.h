/* Who a connection is (private to core/sio): the identity the
 * authenticating plugin sets, and SBR_EVENT_IDENTITY when it replaces it.
 * Calls sio_conn.c, hooks/ and util/id_diff. */
#ifndef SBR_SIO_IDENTITY_H
#define SBR_SIO_IDENTITY_H

#include <superbot-realtime/plugin.h>

/* Host-table services (see struct sbr_api). */
int sio_api_conn_set_identity(sbr_conn_id conn, const sbr_identity *identity);
const sbr_identity *sio_api_conn_identity(sbr_conn_id conn);

#endif
