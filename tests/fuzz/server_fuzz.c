/* libFuzzer harness: the whole server stack over a real loopback socket.
 *
 * The pure-decoder harnesses cannot reach the stream logic that glues them
 * together (core/ws/ws_conn.c's read loop, fragment reassembly and close
 * handshake, Engine.IO sessions and upgrades, Socket.IO binary packets
 * collecting their attachments).  Here the core runs for real (settings,
 * evhttp with http_server_start, Engine.IO, Socket.IO, no plugins) in this
 * process, and each input is sent by a client socket on 127.0.0.1:
 *
 *   first byte % 3 == 0: a WebSocket handshake, then the raw bytes (frames
 *                        as the fuzzer writes them);
 *   first byte % 3 == 1: a WebSocket handshake, then the input split on
 *                        0xFF into messages, each sent as masked frames
 *                        (its first byte picks text, binary or a
 *                        fragmented text, ping, or close);
 *   first byte % 3 == 2: an Engine.IO polling handshake, then the input as
 *                        the body of a polling POST, then a polling GET.
 *
 * After each input the client closes and every session is closed, so that
 * nothing lives on into the next input. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "bus.h"
#include "conf/conf.h"
#include "eio/eio_session.h"
#include "log.h"
#include "net/http.h"
#include "settings.h"
#include "sio/sio.h"
#include "util/worker_id.h"
#include "ws/ws_conn.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *base;
static int port;

static void die(const char *why)
{
    fprintf(stderr, "server_fuzz: %s\n", why);
    abort();
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &len))
        die("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char text[512], err[CONF_ERR_MAX];
    signal(SIGPIPE, SIG_IGN); /* the server may close while we write */
    port = free_port();
    snprintf(text, sizeof(text),
             "plugin = core\nlisten = 127.0.0.1:%d\nlog_level = error\nmax_payload = 100000\n"
             "max_body_size = 100000\ninbound_rate = 0\noutbound_buffer_max = 1000000\n",
             port);
    struct conf_file file;
    struct conf_values values;
    struct core_settings settings;
    if (conf_text_parse("server_fuzz.conf", text, strlen(text), &file, err, sizeof(err)) ||
        conf_values_build(settings_keys(), &file, NULL, &values, err, sizeof(err)) ||
        settings_build(&values, "server_fuzz.conf", &settings, err, sizeof(err)))
        die(err);
    conf_file_clear(&file);
    settings_install(&settings, &values);
    log_set_level(settings_get()->log_level);
    base = event_base_new();
    if (!base || worker_id_init() != 0 || bus_init(base, NULL) != 0 || sio_server_init(base, "/socket.io/") < 0 ||
        http_server_start(base) < 0)
        die("cannot start the server");
    return 0;
}

/* Run the loop and read what the server sent, until `done` or a bound. */
struct client {
    int fd;
    char *in;
    size_t in_len, in_cap;
    int eof;
};

static void pump(struct client *c, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (c->fd < 0)
            continue;
        for (;;) {
            if (c->in_len + 4096 > c->in_cap) {
                size_t cap = c->in_cap ? c->in_cap * 2 : 65536;
                char *p = realloc(c->in, cap);
                if (!p)
                    die("out of memory");
                c->in = p;
                c->in_cap = cap;
            }
            ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
            if (n > 0) {
                c->in_len += (size_t)n;
                c->in[c->in_len] = '\0';
                /* Keep only a window: nothing here needs old output. */
                if (c->in_len > (1u << 20)) {
                    memmove(c->in, c->in + c->in_len - 4096, 4096);
                    c->in_len = 4096;
                }
                continue;
            }
            if (n == 0)
                c->eof = 1;
            break;
        }
    }
}

static int client_open(struct client *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    /* Each closed connection leaves a TIME_WAIT on our side: rotate the
     * source address over 127.0.0.0/16 so that thousands of inputs a
     * second never run out of (address, port) pairs. */
    static unsigned next_source;
    unsigned n = next_source++ % 65000 + 2;
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000000u | n)};
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0)
        die("cannot bind a client socket");
    /* Non-blocking: libFuzzer's SIGALRM would interrupt a blocking connect. */
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS && errno != EINTR) {
        perror("server_fuzz: connect");
        die("cannot connect");
    }
    struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
    for (int i = 0; i < 100; i++) {
        int r = poll(&pfd, 1, 10);
        if (r > 0)
            break;
        if (r < 0 && errno != EINTR)
            die("poll");
    }
    int soerr = 0;
    socklen_t slen = sizeof(soerr);
    if (!(pfd.revents & POLLOUT) || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) || soerr) {
        fprintf(stderr, "server_fuzz: connect: %s\n", strerror(soerr));
        die("cannot connect");
    }
    return 0;
}

/* Write everything (pumping the server while the socket is full). */
static void client_write(struct client *c, const void *p, size_t n)
{
    const char *s = p;
    for (int spins = 0; n && spins < 10000 && !c->eof; spins++) {
        ssize_t w = write(c->fd, s, n);
        if (w > 0) {
            s += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return; /* the server closed: fine */
        }
        pump(c, 1);
    }
}

static void client_close(struct client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->in);
    c->in = NULL;
}

static void frame(struct client *c, int b0, const uint8_t *p, size_t n)
{
    uint8_t hdr[14];
    size_t hl = 0;
    hdr[hl++] = (uint8_t)b0;
    if (n < 126) {
        hdr[hl++] = (uint8_t)(0x80 | n);
    } else if (n <= 0xFFFF) {
        hdr[hl++] = 0x80 | 126;
        hdr[hl++] = (uint8_t)(n >> 8);
        hdr[hl++] = (uint8_t)n;
    } else {
        hdr[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[hl++] = (uint8_t)((uint64_t)n >> (8 * i));
    }
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    memcpy(hdr + hl, mask, 4);
    hl += 4;
    uint8_t *buf = malloc(hl + n + 1);
    if (!buf)
        die("out of memory");
    memcpy(buf, hdr, hl);
    for (size_t i = 0; i < n; i++)
        buf[hl + i] = p[i] ^ mask[i & 3];
    client_write(c, buf, hl + n);
    free(buf);
}

static const char ws_handshake[] =
    "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

static void ws_messages(struct client *c, const uint8_t *data, size_t size)
{
    const uint8_t *end = data + size;
    for (int count = 0; data < end && count < 256; count++) {
        const uint8_t *sep = memchr(data, 0xFF, (size_t)(end - data));
        const uint8_t *stop = sep ? sep : end;
        size_t n = (size_t)(stop - data);
        if (n) {
            uint8_t kind = data[0];
            const uint8_t *p = data + 1;
            size_t len = n - 1;
            switch (kind % 6) {
            case 0: case 1: /* text: most of what Engine.IO sends */
                frame(c, 0x81, p, len);
                break;
            case 2:
                frame(c, 0x82, p, len);
                break;
            case 3: /* fragmented text, split in the middle */
                frame(c, 0x01, p, len / 2);
                frame(c, 0x80, p + len / 2, len - len / 2);
                break;
            case 4:
                frame(c, 0x89, p, len > 125 ? 125 : len);
                break;
            default:
                frame(c, 0x88, p, len > 125 ? 125 : len);
                break;
            }
            pump(c, 2);
        }
        data = stop + (sep ? 1 : 0);
    }
}

static void polling(struct client *c, const uint8_t *data, size_t size)
{
    static const char open_req[] = "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    client_write(c, open_req, sizeof(open_req) - 1);
    char sid[64] = "";
    for (int i = 0; i < 50 && !sid[0] && !c->eof; i++) {
        pump(c, 1);
        const char *s = c->in ? strstr(c->in, "\"sid\":\"") : NULL;
        if (s && sscanf(s + 7, "%63[^\"]", sid) != 1)
            sid[0] = '\0';
    }
    if (!sid[0])
        return;
    char head[256];
    int hl = snprintf(head, sizeof(head),
                      "POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %zu\r\n\r\n",
                      sid, size);
    client_write(c, head, (size_t)hl);
    client_write(c, data, size);
    pump(c, 4);
    hl = snprintf(head, sizeof(head), "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                  sid);
    client_write(c, head, (size_t)hl);
    pump(c, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 200000)
        return 0;
    struct client c;
    client_open(&c);
    int mode = data[0] % 3;
    data++;
    size--;
    if (mode == 2) {
        polling(&c, data, size);
    } else {
        client_write(&c, ws_handshake, sizeof(ws_handshake) - 1);
        pump(&c, 3);
        if (mode == 0) {
            client_write(&c, data, size);
            pump(&c, 4);
        } else {
            ws_messages(&c, data, size);
        }
    }
    client_close(&c);
    /* Everything this input opened goes away before the next one. */
    for (int i = 0; i < 200 && (ws_conn_count() || eio_session_count()); i++) {
        if (i == 20)
            eio_server_close_all("fuzz input done");
        pump(&c, 1);
    }
    if (ws_conn_count() || eio_session_count())
        die("a connection outlived its input");
    return 0;
}
