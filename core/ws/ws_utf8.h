/* Incremental UTF-8 validation (private), for text messages that arrive in
 * fragments split anywhere, even inside a code point. */
#ifndef SBR_WS_UTF8_H
#define SBR_WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct ws_utf8 {
    uint8_t need; /* continuation bytes still expected */
    uint8_t lo;   /* bounds of the next continuation byte */
    uint8_t hi;
};

void ws_utf8_reset(struct ws_utf8 *u);
/* Feed n bytes; 0 while valid so far, -1 on an invalid sequence. */
int ws_utf8_feed(struct ws_utf8 *u, const uint8_t *p, size_t n);
/* 1 if no code point is left incomplete. */
int ws_utf8_complete(const struct ws_utf8 *u);

#endif
