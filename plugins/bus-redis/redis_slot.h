/* Redis Cluster's key hash slots: CRC16 (XMODEM: polynomial 0x1021, initial
 * value 0) of the key modulo 16384, or of its hash tag: the text between
 * the first '{' and the first '}' after it, when that text is not empty.
 * Keys with the same tag live in the same slot, so a script may touch them
 * together; sharded pub/sub channels are hashed the same way.  Pure. */
#ifndef SBR_BUS_REDIS_SLOT_H
#define SBR_BUS_REDIS_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_SLOTS 16384u
/* Room for the longest tag redis_slot_tags_build makes, and its NUL. */
#define REDIS_SLOT_TAG_SIZE 8

uint16_t redis_crc16(const char *buf, size_t len);
/* The slot of a key (or a sharded channel) of len bytes. */
unsigned redis_slot(const char *key, size_t len);
/* Fill tags[slot] with a short text whose slot is `slot`, for every slot:
 * a key holding "{" tag "}" (and no '{' before it) lives in that slot. */
void redis_slot_tags_build(char (*tags)[REDIS_SLOT_TAG_SIZE]);

#endif
