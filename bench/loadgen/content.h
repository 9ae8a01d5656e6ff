/* The content of a measured message: "<seq>.<send time in us>.<padding>",
 * written by the publishing side and read back at every delivery. */
#ifndef LOADGEN_CONTENT_H
#define LOADGEN_CONTENT_H

#include <stddef.h>
#include <stdint.h>

/* Read seq and send time from a `message` event packet (`2["message",{...
 * "content":"<seq>.<us>...` ).  0 on success, -1 if the packet carries no
 * such content. */
int content_read(const char *packet, size_t len, uint64_t *seq, uint64_t *sent_us);

#endif
