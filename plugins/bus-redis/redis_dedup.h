/* What a receiver remembers of each publishing worker: the highest
 * sequence number delivered from it, in each lane (redis_outbox.h: one for
 * a single Redis, a hash slot on a cluster).  A worker sends a lane's
 * messages in order and, after losing its link, sends again in order from
 * the oldest one Redis had not answered, so a message whose number is not
 * above its lane's mark is one this worker already delivered (or was not
 * subscribed for): it is dropped, and subscribers never see a message
 * twice.  Lanes other than 0 cost 24 to 48 bytes each, per origin, once
 * heard of.  Workers not heard from for an hour are forgotten once more
 * than REDIS_DEDUP_KEEP are known. */
#ifndef SBR_BUS_REDIS_DEDUP_H
#define SBR_BUS_REDIS_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_DEDUP_KEEP 256
#define REDIS_DEDUP_FORGET_MS (3600u * 1000u)

typedef struct redis_dedup redis_dedup;

redis_dedup *redis_dedup_new(void);
void redis_dedup_free(redis_dedup *d);
/* 1 if message seq of origin (REDIS_ENVELOPE_ID_LEN bytes) in lane is new,
 * and remember it; 0 if it is not.  A new origin or lane is always
 * accepted (also when there is no memory to remember it). */
int redis_dedup_accept(redis_dedup *d, const char *origin, uint32_t lane, uint64_t seq, uint64_t now);
/* Origins remembered. */
size_t redis_dedup_count(const redis_dedup *d);

#endif
