/* A WebSocket's input (private to core/ws): the event callback of its
 * socket, reading frames, reassembling messages, answering pings and the
 * peer's close.  Calls ws_output.c. */
#ifndef SBR_WS_INPUT_H
#define SBR_WS_INPUT_H

#include <event2/util.h>

/* The socket's event: readable (frames in), writable (output blocked
 * before), or timed out (lingering, the peer went quiet). */
void ws_input_on_io(evutil_socket_t fd, short what, void *arg);

#endif
