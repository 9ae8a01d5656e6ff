#include "floor_relay.h"

#include "clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS_MAX 256
#define INPUT_MAX (64u << 10)

struct relay_conn {
    int fd;
    uint32_t in_len;     /* bytes of an incomplete record kept in `in` */
    uint8_t *in;         /* record_size bytes */
    uint8_t *out;        /* what the next send() carries */
    size_t out_len, out_cap;
    int dirty;           /* on the list of connections to write this turn */
};

static struct {
    struct relay_conn *conns;
    const struct floor_relay_layout *layout;
    unsigned *dirty;     /* indexes of connections to write at the end of the turn */
    unsigned n_dirty;
    uint64_t sends;
    int failed;
} relay;

static int relay_append(struct relay_conn *c, unsigned index, const uint8_t *record, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *grown = realloc(c->out, cap);
        if (!grown)
            return -1;
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, record, len);
    c->out_len += len;
    if (!c->dirty) {
        c->dirty = 1;
        relay.dirty[relay.n_dirty++] = index;
    }
    return 0;
}

/* The frame of a record, laid out as the gateway's `message` event:
 * `42["message",{"id":..,"channel_id":..,"user_id":..,"content":"<seq>.<us>.
 * xxx","nonce":..,"ts":..}]`, the content padded so that the frame has
 * frame_size bytes; its length, or 0 if that is too small. */
static size_t relay_encode(const struct floor_record *r, uint8_t *frame)
{
    size_t size = relay.layout->frame_size;
    size_t header = size - 2 <= 125 ? 2 : 4;
    size_t payload = size - header;
    char head[160], tail[64];
    unsigned long long seq = (unsigned long long)r->seq;
    int hn = snprintf(head, sizeof head,
                      "42[\"message\",{\"id\":\"m%llu\",\"channel_id\":\"c%u\",\"user_id\":\"u%u\","
                      "\"content\":\"%llu.%llu.",
                      seq, r->room, r->sender, seq, (unsigned long long)r->sent_us);
    int tn = snprintf(tail, sizeof tail, "\",\"nonce\":\"%llu\",\"ts\":%llu}]", seq,
                      (unsigned long long)(r->sent_us / 1000));
    if (hn < 0 || tn < 0 || (size_t)hn + (size_t)tn > payload)
        return 0;
    char *text = (char *)frame + header;
    memcpy(text, head, (size_t)hn);
    memset(text + hn, 'x', payload - (size_t)hn - (size_t)tn);
    memcpy(text + payload - (size_t)tn, tail, (size_t)tn);
    frame[0] = 0x81; /* FIN, text */
    if (header == 2) {
        frame[1] = (uint8_t)payload;
    } else {
        frame[1] = 126;
        frame[2] = (uint8_t)(payload >> 8);
        frame[3] = (uint8_t)payload;
    }
    return size;
}

/* Encode one record once and copy it to every member of its room. */
static void relay_record(const uint8_t *record)
{
    static uint8_t frame[65536];
    const struct floor_relay_layout *l = relay.layout;
    struct floor_record r;
    memcpy(&r, record, sizeof r);
    size_t len = r.room < l->rooms ? relay_encode(&r, frame) : 0;
    if (!len) {
        relay.failed = 1;
        return;
    }
    unsigned first = r.room * l->room_size;
    for (unsigned m = first; m < first + l->room_size; m++)
        if (relay_append(&relay.conns[m], m, frame, len) != 0)
            relay.failed = 1;
}

/* Read what a connection sent and relay its complete records.  -1 when it
 * closed or failed. */
static int relay_read(struct relay_conn *c)
{
    static uint8_t buf[INPUT_MAX];
    size_t size = relay.layout->record_size;
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    size_t at = 0;
    if (c->in_len) {  /* complete the record a previous read began */
        size_t take = size - c->in_len < (size_t)n ? size - c->in_len : (size_t)n;
        memcpy(c->in + c->in_len, buf, take);
        c->in_len += (uint32_t)take;
        at = take;
        if (c->in_len < size)
            return 0;
        relay_record(c->in);
        c->in_len = 0;
    }
    for (; at + size <= (size_t)n; at += size)
        relay_record(buf + at);
    memcpy(c->in, buf + at, (size_t)n - at);
    c->in_len = (uint32_t)((size_t)n - at);
    return 0;
}

/* The end of a turn: one send() per connection that got records. */
static void relay_flush(void)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < relay.n_dirty; i++) {
        struct relay_conn *c = &relay.conns[relay.dirty[i]];
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        relay.sends++;
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            relay.failed = 1;
            n = (ssize_t)c->out_len;  /* a reader that went away: drop its output */
        }
        size_t done = n > 0 ? (size_t)n : 0;
        memmove(c->out, c->out + done, c->out_len - done);
        c->out_len -= done;
        if (c->out_len)
            relay.dirty[kept++] = relay.dirty[i];  /* a full socket: again next turn */
        else
            c->dirty = 0;
    }
    relay.n_dirty = kept;
}

static int relay_accept_all(int listener, int epfd)
{
    const struct floor_relay_layout *l = relay.layout;
    for (unsigned i = 0; i < l->connections; i++) {
        int fd = accept(listener, NULL, NULL), one = 1;
        uint32_t index;
        if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
            recv(fd, &index, sizeof index, MSG_WAITALL) != (ssize_t)sizeof index || index >= l->connections ||
            relay.conns[index].fd >= 0)
            return -1;
        struct relay_conn *c = &relay.conns[index];
        c->fd = fd;
        c->in = malloc(l->record_size);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = index };
        if (!c->in || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
            return -1;
    }
    return 0;
}

/* A turn reads whatever input is ready and ends, with one send() per
 * connection that got records, when no more input is ready (or after
 * TURN_MAX_US of input that never stops): what a server that coalesces
 * every write of a turn at the lowest priority of its loop does. */
#define TURN_MAX_US 1000

static void relay_loop(int epfd, unsigned stop_index)
{
    struct epoll_event events[EVENTS_MAX];
    unsigned open = relay.layout->connections;
    uint64_t turn_start = 0;
    while (open && !relay.failed) {
        int n = epoll_wait(epfd, events, EVENTS_MAX, relay.n_dirty ? 0 : -1);
        if (n < 0 && errno != EINTR)
            relay.failed = 1;
        for (int i = 0; i < n; i++) {
            unsigned index = events[i].data.u32;
            if (index == stop_index)
                return;
            struct relay_conn *c = &relay.conns[index];
            if (c->fd >= 0 && relay_read(c) != 0) {
                epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
                open--;
            }
        }
        if (!relay.n_dirty)
            continue;
        uint64_t now = clock_now_us();
        if (!turn_start)
            turn_start = now;
        if (n <= 0 || now - turn_start >= TURN_MAX_US) {
            relay_flush();
            turn_start = 0;
        }
    }
}

int floor_relay_serve(int listener, int stop_fd, int result_fd, const struct floor_relay_layout *layout)
{
    relay.layout = layout;
    relay.conns = calloc(layout->connections, sizeof *relay.conns);
    relay.dirty = calloc(layout->connections, sizeof *relay.dirty);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!relay.conns || !relay.dirty || epfd < 0)
        return 2;
    for (unsigned i = 0; i < layout->connections; i++)
        relay.conns[i].fd = -1;
    if (relay_accept_all(listener, epfd) != 0)
        return 2;
    struct epoll_event stop = { .events = EPOLLIN, .data.u32 = layout->connections };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, stop_fd, &stop) != 0)
        return 2;
    relay_loop(epfd, layout->connections);
    uint64_t sends = relay.sends;
    if (write(result_fd, &sends, sizeof sends) != (ssize_t)sizeof sends)
        return 2;
    return relay.failed ? 1 : 0;
}
