/* A plain-socket HTTP client for the core's unit tests (see loopback.h). */
#include "loopback.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long loopback_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loopback_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             getsockname(fd, (struct sockaddr *)&sa, &len) == 0;
    if (fd >= 0)
        close(fd);
    return ok ? ntohs(sa.sin_port) : -1;
}

int loopback_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int loopback_send(int fd, const char *text, size_t len)
{
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, text + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        sent += (size_t)n;
    }
    return 0;
}

void loopback_pump(struct event_base *base, int ms)
{
    long long end = loopback_ms() + ms;
    do {
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    } while (loopback_ms() < end);
}

/* 1 once out holds the headers and Content-Length bytes of body. */
static int loopback_complete(const char *out, size_t len)
{
    const char *end = strstr(out, "\r\n\r\n");
    if (!end)
        return 0;
    char value[32];
    const char *cl = loopback_header(out, "Content-Length", value, sizeof(value));
    size_t head = (size_t)(end + 4 - out);
    return cl && len >= head + strtoul(cl, NULL, 10);
}

size_t loopback_read(struct event_base *base, int fd, char *out, size_t cap, int timeout_ms, int *closed)
{
    size_t len = 0;
    long long end = loopback_ms() + timeout_ms;
    *closed = 0;
    out[0] = '\0';
    while (loopback_ms() < end && !loopback_complete(out, len) && len + 1 < cap) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1) <= 0)
            continue;
        ssize_t n = recv(fd, out + len, cap - 1 - len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            *closed = 1;
            break;
        }
        if (n > 0) {
            len += (size_t)n;
            out[len] = '\0';
        }
    }
    return len;
}

size_t loopback_exchange(struct event_base *base, int port, const char *request, char *out, size_t cap)
{
    int closed, fd = loopback_connect(port);
    out[0] = '\0';
    if (fd < 0)
        return 0;
    size_t n = loopback_send(fd, request, strlen(request)) == 0 ? loopback_read(base, fd, out, cap, 3000, &closed) : 0;
    close(fd);
    return n;
}

int loopback_status(const char *response)
{
    int status = 0;
    return sscanf(response, "HTTP/1.%*d %d", &status) == 1 ? status : 0;
}

const char *loopback_header(const char *response, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *end = strstr(response, "\r\n\r\n");
    for (const char *line = strstr(response, "\r\n"); line && (!end || line < end); line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, n) != 0 || h[n] != ':')
            continue;
        h += n + 1;
        while (*h == ' ')
            h++;
        size_t v = strcspn(h, "\r\n");
        snprintf(out, cap, "%.*s", (int)v, h);
        return out;
    }
    return NULL;
}

const char *loopback_body(const char *response)
{
    const char *end = strstr(response, "\r\n\r\n");
    return end ? end + 4 : "";
}
