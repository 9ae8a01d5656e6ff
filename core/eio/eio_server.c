/* The Engine.IO server as a whole: its path registered with the public
 * HTTP server, the session table, the worker address and relaying, started
 * and freed in order. */
#include <stdio.h>

#include "log.h"
#include "net/http.h"
#include "eio/eio_forward.h"
#include "eio/eio_internal.h"
#include "eio/eio_worker_server.h"

/* Any non-NULL value: requests of the public server may be relayed. */
static int eio_public_relays = 1;

int eio_server_init(struct event_base *base, const char *path, const struct eio_handler *handler)
{
    char advertised[128];
    if (!*worker_id()) {
        log_error("eio", "no worker identity");
        return -1;
    }
    if (eio_sessions_init(base, handler) != 0)
        return -1;
    if (http_prefix_handler(path, eio_http_handle, &eio_public_relays) != 0) {
        log_error("eio", "cannot serve Engine.IO at %s: the path is taken", path);
        return -1;
    }
    if (eio_worker_server_start(base, path, advertised, sizeof(advertised)) != 0)
        return -1;
    return eio_forward_init(base, path, advertised);
}

void eio_server_free(void)
{
    eio_sessions_free();
    eio_forward_free();
    eio_worker_server_free();
}
