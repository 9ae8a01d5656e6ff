/* Key hash slots (see redis_slot.h). */
#include "redis_slot.h"

#include <stdio.h>
#include <string.h>

static uint16_t redis_crc16_table[256];

static void redis_crc16_init(void)
{
    for (unsigned byte = 0; byte < 256; byte++) {
        uint16_t crc = (uint16_t)(byte << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
        redis_crc16_table[byte] = crc;
    }
}

uint16_t redis_crc16(const char *buf, size_t len)
{
    if (!redis_crc16_table[1])
        redis_crc16_init();
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ redis_crc16_table[((crc >> 8) ^ (unsigned char)buf[i]) & 0xff]);
    return crc;
}

unsigned redis_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t after = (size_t)(open - key) + 1;
        const char *close = memchr(open + 1, '}', len - after);
        if (close && close > open + 1)
            return redis_crc16(open + 1, (size_t)(close - open - 1)) & (REDIS_SLOTS - 1);
    }
    return redis_crc16(key, len) & (REDIS_SLOTS - 1);
}

/* Decimal numbers in turn until every slot has one: about 170,000 tries,
 * each of at most six digits. */
void redis_slot_tags_build(char (*tags)[REDIS_SLOT_TAG_SIZE])
{
    for (unsigned slot = 0; slot < REDIS_SLOTS; slot++)
        tags[slot][0] = '\0';
    unsigned missing = REDIS_SLOTS;
    for (unsigned n = 0; missing && n < 10000000u; n++) {
        char text[REDIS_SLOT_TAG_SIZE];
        int len = snprintf(text, sizeof(text), "%u", n);
        unsigned slot = redis_crc16(text, (size_t)len) & (REDIS_SLOTS - 1);
        if (tags[slot][0])
            continue;
        memcpy(tags[slot], text, (size_t)len + 1);
        missing--;
    }
}
