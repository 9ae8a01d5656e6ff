/* A socket's stream of room events, for connection state recovery
 * (private to core/sio): its Socket.IO id and private id (pid), the
 * offsets of room events (formatted into the packet, and the highest this
 * worker delivered), the filter that drops what a recovery sent already,
 * and the room events kept, with their offsets, while a recovery is
 * decided.  With recovery off a connection has no stream and nothing here
 * runs.  Calls sio_conn.c, sio_emit.c and eio. */
#ifndef SBR_SIO_STREAM_H
#define SBR_SIO_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "sio/sio_conn.h"

/* Socket ids and pids: 128 random bits in base64url, 22 characters. */
#define SIO_ID_LEN 22
/* Offsets on the wire: 16 decimal digits. */
#define SIO_OFFSET_DIGITS 16

/* A room event kept while a recovery is decided. */
struct sio_kept {
    struct eio_buf *buf;  /* the packet with its offset (a reference) */
    uint64_t offset;
    struct sio_room *room;
};

struct sio_stream {
    char sid[SIO_ID_LEN + 1];
    char pid[SIO_ID_LEN + 1];
    uint64_t start;       /* no room event at or below this offset can have reached it */
    uint64_t first;       /* the offset of the first room event delivered to it (0: none yet) */
    uint64_t skip_upto;   /* room events at or below this were sent by its recovery: dropped */
    struct sio_kept *kept;
    size_t n_kept, cap_kept, kept_bytes;
    unsigned keeping : 1; /* a recovery is being decided: room events are kept */
};

/* 1 when recovery is configured (recovery_window_seconds > 0). */
int sio_recovery_configured(void);
/* How long a room's log keeps an event: the window, plus the time a dead
 * peer takes to be noticed (ping interval and timeout), plus a margin. */
uint64_t sio_recovery_keep_ms(void);

/* Draw 128 random bits as an id into out[SIO_ID_LEN + 1]; 0 or -1. */
int sio_id_random(char *out);
/* 1 if text is an id as sio_id_random draws them. */
int sio_id_valid(const char *text);
/* Parse a 16-digit offset; 0 or -1. */
int sio_offset_parse(const char *text, uint64_t *out);

/* Give c a stream with fresh ids (with recovery configured; a no-op
 * otherwise); 0, or -1 without memory or randomness. */
int sio_stream_open(struct sio_conn *c);
/* Fresh ids again (a recovery that did not happen). */
int sio_stream_renew(struct sio_conn *c);
void sio_stream_free(struct sio_conn *c);

/* The highest offset delivered on this worker; note one delivered (or a
 * point the room log says was passed: room_flush). */
uint64_t sio_stream_high_water(void);
void sio_stream_seen(uint64_t offset);
/* A fresh connection is answered: what a recovery without a client offset
 * will start from (just before the first room event it got, else the
 * worker's high-water mark now). */
void sio_stream_started(struct sio_conn *c);

/* The room packet "42[...]" (or "42/nsp,[...]") with its offset as one
 * more, last argument, in a new buffer; NULL without memory or for a
 * packet that does not end with ']'. */
struct eio_buf *sio_stream_packet(const char *packet, size_t len, uint64_t offset);

/* Deliver a room event with its offset to c: kept while a recovery is
 * decided, dropped when its recovery sent it already, else queued as any
 * packet.  SBR_OK or as sio_conn_send. */
int sio_stream_deliver(struct sio_conn *c, struct eio_buf *b, uint64_t offset, struct sio_room *room,
                       unsigned flags);
/* Stop keeping: hand the kept events over to the caller (by offset,
 * increasing; the caller unrefs each buffer and frees the array). */
struct sio_kept *sio_stream_take_kept(struct sio_conn *c, size_t *n);

#endif
