/* A socket's stream of room events (see sio_stream.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "log.h"
#include "settings.h"
#include "util/base64.h"
#include "sio/sio_emit.h"
#include "sio/sio_stream.h"

/* Room events a worker delivered, the highest offset: a new connection's
 * `start`, below which its recovery never reaches. */
static uint64_t stream_high_water;

/* Beyond the heartbeat, for the time between a peer's end being noticed
 * and its session written, and clocks that differ a little. */
#define SIO_RECOVERY_KEEP_MARGIN_MS 10000

int sio_recovery_configured(void)
{
    return settings_get()->recovery_window_ms > 0;
}

uint64_t sio_recovery_keep_ms(void)
{
    const struct core_settings *st = settings_get();
    return st->recovery_window_ms + st->ping_interval_ms + st->ping_timeout_ms + SIO_RECOVERY_KEEP_MARGIN_MS;
}

int sio_id_random(char *out)
{
    uint8_t raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return -1;
    base64_encode(raw, sizeof(raw), out, 1);
    return 0;
}

int sio_id_valid(const char *text)
{
    size_t n = 0;
    for (; text && text[n]; n++) {
        char ch = text[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_'))
            return 0;
    }
    return n == SIO_ID_LEN;
}

int sio_offset_parse(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; text && text[n]; n++) {
        if (text[n] < '0' || text[n] > '9' || n == SIO_OFFSET_DIGITS)
            return -1;
        v = v * 10 + (uint64_t)(text[n] - '0');
    }
    if (n != SIO_OFFSET_DIGITS)
        return -1;
    *out = v;
    return 0;
}

int sio_stream_open(struct sio_conn *c)
{
    if (!sio_recovery_configured())
        return 0;
    struct sio_stream *st = calloc(1, sizeof(*st));
    if (!st || sio_id_random(st->sid) != 0 || sio_id_random(st->pid) != 0) {
        free(st);
        return -1;
    }
    st->start = stream_high_water;
    c->stream = st;
    return 0;
}

int sio_stream_renew(struct sio_conn *c)
{
    if (!c->stream)
        return 0;
    if (sio_id_random(c->stream->sid) != 0 || sio_id_random(c->stream->pid) != 0)
        return -1;
    c->stream->start = stream_high_water;
    return 0;
}

static void stream_drop_kept(struct sio_stream *st)
{
    for (size_t i = 0; i < st->n_kept; i++)
        eio_buf_unref(st->kept[i].buf);
    free(st->kept);
    st->kept = NULL;
    st->n_kept = st->cap_kept = st->kept_bytes = 0;
}

void sio_stream_free(struct sio_conn *c)
{
    if (!c->stream)
        return;
    stream_drop_kept(c->stream);
    free(c->stream);
    c->stream = NULL;
}

void sio_stream_started(struct sio_conn *c)
{
    if (c->stream)
        c->stream->start = c->stream->first ? c->stream->first - 1 : stream_high_water;
}

uint64_t sio_stream_high_water(void)
{
    return stream_high_water;
}

void sio_stream_seen(uint64_t offset)
{
    if (offset > stream_high_water)
        stream_high_water = offset;
}

struct eio_buf *sio_stream_packet(const char *packet, size_t len, uint64_t offset)
{
    if (len < 2 || packet[len - 1] != ']')
        return NULL;
    /* ...] -> ...,"<16 digits>"] */
    struct eio_buf *b = eio_buf_alloc(len + 3 + SIO_OFFSET_DIGITS, 0);
    if (!b)
        return NULL;
    char *p = eio_buf_data(b);
    memcpy(p, packet, len - 1);
    p += len - 1;
    *p++ = ',';
    *p++ = '"';
    for (int i = SIO_OFFSET_DIGITS - 1; i >= 0; i--) {
        p[i] = (char)('0' + offset % 10);
        offset /= 10;
    }
    p += SIO_OFFSET_DIGITS;
    *p++ = '"';
    *p = ']';
    return b;
}

/* Keep an event while the recovery is decided, under the outbound cap
 * (what is kept is output already promised). */
static int stream_keep(struct sio_conn *c, struct eio_buf *b, uint64_t offset, struct sio_room *room)
{
    struct sio_stream *st = c->stream;
    if (st->n_kept == st->cap_kept) {
        size_t cap = st->cap_kept ? st->cap_kept * 2 : 8;
        struct sio_kept *k = realloc(st->kept, cap * sizeof(*k));
        if (!k)
            return SBR_ERR_NOMEM;
        st->kept = k;
        st->cap_kept = cap;
    }
    st->kept[st->n_kept++] = (struct sio_kept){eio_buf_ref(b), offset, room};
    st->kept_bytes += b->len + 1;
    uint64_t cap = settings_get()->outbound_buffer_max;
    if (cap && st->kept_bytes + c->held_bytes > cap) {
        log_warn("sio", "connection %llu: %zu bytes of room events waiting for its recovery, past the cap of %llu: "
                 "disconnecting", (unsigned long long)c->id, st->kept_bytes, (unsigned long long)cap);
        sio_client_drop(c->client, "slow consumer");
        return SBR_ERR_LIMIT;
    }
    return SBR_OK;
}

int sio_stream_deliver(struct sio_conn *c, struct eio_buf *b, uint64_t offset, struct sio_room *room,
                       unsigned flags)
{
    struct sio_stream *st = c->stream;
    if (!st)
        return sio_conn_send(c, b, flags);
    if (!st->first)
        st->first = offset;
    if (st->keeping)
        return stream_keep(c, b, offset, room);
    if (st->skip_upto) {
        if (offset <= st->skip_upto)
            return SBR_OK; /* its recovery sent it */
        st->skip_upto = 0; /* the live stream is past what the recovery sent */
    }
    return sio_conn_send(c, b, flags);
}

static int kept_by_offset(const void *a, const void *b)
{
    uint64_t x = ((const struct sio_kept *)a)->offset, y = ((const struct sio_kept *)b)->offset;
    return x < y ? -1 : x > y;
}

struct sio_kept *sio_stream_take_kept(struct sio_conn *c, size_t *n)
{
    struct sio_stream *st = c->stream;
    *n = 0;
    if (!st)
        return NULL;
    st->keeping = 0;
    struct sio_kept *kept = st->kept;
    *n = st->n_kept;
    /* Each worker delivers in offset order; sorting costs nothing then,
     * and keeps the promise if a provider ever does not. */
    if (kept && *n > 1)
        qsort(kept, *n, sizeof(*kept), kept_by_offset);
    st->kept = NULL;
    st->n_kept = st->cap_kept = st->kept_bytes = 0;
    return kept;
}
