/* See tcp_nodelay.h. */
#include "util/tcp_nodelay.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int tcp_nodelay(int fd)
{
    int one = 1;
    return fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 ? 0 : -1;
}
