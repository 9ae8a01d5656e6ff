/* The inbound event rate of a connection (core keys inbound_rate per
 * inbound_rate_window_ms).  Past the limit an event is not processed: one
 * with an ack id is answered {"ok": false, "error": "rate_limited",
 * "retry_after": <seconds left in the window>}, one without is dropped; the
 * client can tell and slow down.  Only a connection that keeps sending past
 * twice the limit within one window is ended, with disconnect_reason
 * "rate_limited", so that a flood costs the worker a bounded amount. */
#include <stdio.h>
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "settings.h"
#include "sio/sio_emit.h"
#include "sio/sio_end.h"
#include "sio/sio_rate.h"

enum sio_rate_verdict sio_rate_check(struct sio_conn *c, uint64_t *retry_after_ms)
{
    const struct core_settings *st = settings_get();
    if (!st->inbound_rate)
        return SIO_RATE_OK;
    uint64_t now = clock_monotonic_ms();
    if (now - c->rate_window_start >= st->inbound_rate_window_ms) {
        c->rate_window_start = now;
        c->rate_count = 0;
    }
    uint64_t n = ++c->rate_count;
    if (n <= st->inbound_rate)
        return SIO_RATE_OK;
    uint64_t end = c->rate_window_start + st->inbound_rate_window_ms;
    *retry_after_ms = end > now ? end - now : 1;
    return n <= 2 * st->inbound_rate ? SIO_RATE_LIMITED : SIO_RATE_ABUSE;
}

/* Answer the event's ack, if it asked for one, with the refusal. */
static void sio_rate_answer(struct sio_conn *c, const struct sio_packet *pk, uint64_t retry_after_ms)
{
    if (!pk->has_id)
        return;
    char body[96];
    int n = snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"rate_limited\",\"retry_after\":%llu.%03llu}",
                     (unsigned long long)(retry_after_ms / 1000), (unsigned long long)(retry_after_ms % 1000));
    struct eio_buf *b = sio_encode_packet(SIO_ACK, 0, c->nsp, 1, pk->id, NULL, body, (size_t)n);
    if (b) {
        sio_conn_send(c, b, 0);
        eio_buf_unref(b);
    }
}

void sio_rate_refuse(struct sio_conn *c, const struct sio_packet *pk, enum sio_rate_verdict verdict,
                     uint64_t retry_after_ms)
{
    core_metrics.rate_limited_events++;
    if (verdict == SIO_RATE_LIMITED) {
        sio_rate_answer(c, pk, retry_after_ms);
        return;
    }
    core_metrics.rate_limited_disconnects++;
    log_info("sio", "connection %llu: past twice the inbound rate, ending it", (unsigned long long)c->id);
    sio_conn_end(c, "rate_limited");
}
