/* Listen addresses (layer 0, private): the one parser of "host:port" text,
 * for the settings checks and for binding in net/.  Calls nothing. */
#ifndef SBR_UTIL_LISTEN_ADDR_H
#define SBR_UTIL_LISTEN_ADDR_H

#include <stddef.h>

/* Split "host:port", "[v6]:port" or "*:port" (any address: host "") into
 * host (up to hostlen bytes, NUL included) and port: 1..65535, or also 0
 * (any free port) when allow_any_port.  0, or -1 when it is not that. */
int listen_addr_parse(const char *text, char *host, size_t hostlen, int *port, int allow_any_port);

#endif
