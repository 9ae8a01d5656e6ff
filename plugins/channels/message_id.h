/* Message ids: 64-bit, unique across workers and roughly time-ordered,
 * written as decimal strings (JavaScript numbers cannot hold them).
 *
 *   41 bits  milliseconds since 2024-01-01 (until 2093)
 *   10 bits  worker number, held by this worker in shared state
 *   12 bits  sequence within the millisecond
 *
 * The worker number is not the worker's identity (api->worker_id, 64
 * random bits, too wide for an id): it is a 10-bit number that the worker
 * holds, unique among live workers while held.  It is held with
 * api->reserve on "channels:worker:<n>" for MESSAGE_ID_CLAIM_MS, and the
 * holder's identity is written next to it, "channels:worker:<n>:holder" =
 * worker id, for as long, so that an operator can tell who uses which
 * number.  A reservation cannot be extended, so the worker takes a fresh
 * number every half of that period, always before the one in use expires:
 * at any time a number is used by one worker only, and the half period left
 * before a number can be taken again covers clock skew between hosts.
 * Until the first claim answers (or while the backend is away) a
 * provisional number derived from the identity is used. */
#ifndef SBR_MESSAGE_ID_H
#define SBR_MESSAGE_ID_H

#include <stdint.h>
#include <superbot-realtime/plugin.h>

#define MESSAGE_ID_CLAIM_MS 60000u
#define MESSAGE_ID_WORKERS 1024u
#define MESSAGE_ID_TEXT_MAX 21 /* 2^63 in decimal plus the NUL */

struct message_id {
    sbr_plugin *self;
    const sbr_api *api;
    unsigned worker;     /* the number in use */
    int claiming;        /* a reserve call is in flight */
    unsigned attempts;   /* numbers tried in the current claim */
    uint64_t last_ms;    /* timestamp of the last id (never goes back) */
    unsigned sequence;
    sbr_timer_id timer;
    const char *holder;  /* api->worker_id() */
};

/* Pick a provisional number, claim one and start rotating.  Returns 0 or -1. */
int message_id_start(struct message_id *ids, sbr_plugin *self, const sbr_api *api);
/* Claim a new number now (the shared backend came back). */
void message_id_claim(struct message_id *ids);
/* The next id, as decimal text in out[MESSAGE_ID_TEXT_MAX]. */
void message_id_next(struct message_id *ids, char *out);

#endif
