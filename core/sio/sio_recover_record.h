/* The state of a lost connection, kept for its recovery (private to
 * core/sio): what sio_reap.c saves when a connection is lost, under
 * "recovery:session:<pid>" in the shared state (kv_set, expiring after the
 * window), and what a recovering CONNECT reads back.  The record is JSON:
 * {"v":1,"sid","nsp","user","session","start","rooms":[...]}.  Calls
 * sio_conn.c, sio_stream.c and the bus. */
#ifndef SBR_SIO_RECOVER_RECORD_H
#define SBR_SIO_RECOVER_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "sio/sio_conn.h"
#include "sio/sio_stream.h"

/* "recovery:session:" + a pid + NUL. */
#define SIO_RECORD_KEY_MAX (sizeof("recovery:session:") + SIO_ID_LEN)

struct sio_record {
    char sid[SIO_ID_LEN + 1];
    char *nsp;
    char *user_id;    /* NULL: the connection had no identity */
    char *session_id; /* or NULL */
    char **rooms;
    size_t n_rooms;
    uint64_t start;
};

/* The shared-state key of a pid into out[SIO_RECORD_KEY_MAX]. */
void sio_record_key(const char *pid, char *out);
/* The record of c as JSON (malloc'd), its length in *len; NULL without memory. */
char *sio_record_encode(const struct sio_conn *c, size_t *len);
/* Parse a record; 0, or -1 for anything malformed (out is then empty). */
int sio_record_decode(const char *text, size_t len, struct sio_record *out);
void sio_record_clear(struct sio_record *r);
/* c was lost: save its record for the recovery window (best effort). */
void sio_record_save(const struct sio_conn *c);

#endif
