/* evhttp connections whose socket a WebSocket took over (private to
 * core/ws): freed from the loop, never inside evhttp's own callback, with
 * their old fd number pointed at /dev/null.  Calls nothing of core/ws. */
#ifndef SBR_WS_PARK_H
#define SBR_WS_PARK_H

#include <event2/http.h>
#include <event2/util.h>

/* Room for one more connection, and the events, on base; 0 or -1. */
int ws_park_reserve(struct event_base *base);
/* Point fd at /dev/null (the socket lives on under another number); 0 or -1. */
int ws_park_cover(evutil_socket_t fd);
/* Free evcon from the loop (room reserved). */
void ws_park_add(struct evhttp_connection *evcon);
void ws_park_free_all(void);

#endif
