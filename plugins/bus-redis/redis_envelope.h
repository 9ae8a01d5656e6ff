/* What bus-redis publishes for a message: the publishing worker's id
 * (REDIS_ENVELOPE_ID_LEN bytes), its sequence number (REDIS_ENVELOPE_SEQ_LEN
 * lowercase hex digits, counting every message that worker published),
 * then the payload as the core gave it.  The id lets a worker drop the echo
 * of its own messages; the sequence number lets every receiver drop a
 * message sent twice (redis_dedup.h). */
#ifndef SBR_BUS_REDIS_ENVELOPE_H
#define SBR_BUS_REDIS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_ENVELOPE_ID_LEN 16
#define REDIS_ENVELOPE_SEQ_LEN 16
#define REDIS_ENVELOPE_HEAD (REDIS_ENVELOPE_ID_LEN + REDIS_ENVELOPE_SEQ_LEN)

/* Write the head (id, then seq) into out[REDIS_ENVELOPE_HEAD]. */
void redis_envelope_head(char *out, const char *origin, uint64_t seq);
/* Split an envelope: 0 with *seq and the payload, -1 when it is not one. */
int redis_envelope_parse(const char *envelope, size_t len, uint64_t *seq, const char **payload, size_t *payload_len);

#endif
