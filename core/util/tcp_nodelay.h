/* TCP_NODELAY on a socket the core writes to (layer 0, private).  The core
 * coalesces what it writes to a connection once per loop turn, so Nagle's
 * algorithm only adds latency: it holds a second small write (the events
 * after a CONNECT answer sent on its own, a frame relayed to another
 * worker) until the peer's delayed ACK, some 40 ms later.  Calls nothing. */
#ifndef SBR_UTIL_TCP_NODELAY_H
#define SBR_UTIL_TCP_NODELAY_H

/* 0, or -1 when fd is no TCP socket (nothing to do then). */
int tcp_nodelay(int fd);

#endif
