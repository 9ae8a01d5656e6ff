/* UTF-8 validation per RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF.  The first continuation byte of some leads has narrower
 * bounds; the state keeps them so a split sequence is checked the same. */
#include "ws/ws_utf8.h"

void ws_utf8_reset(struct ws_utf8 *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xBF;
}

int ws_utf8_feed(struct ws_utf8 *u, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (u->need) {
            if (c < u->lo || c > u->hi)
                return -1;
            u->need--;
            u->lo = 0x80;
            u->hi = 0xBF;
            continue;
        }
        if (c < 0x80)
            continue;
        if (c >= 0xC2 && c <= 0xDF) {
            u->need = 1;
        } else if (c == 0xE0) {
            u->need = 2;
            u->lo = 0xA0;
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
            u->need = 2;
        } else if (c == 0xED) {
            u->need = 2;
            u->hi = 0x9F;
        } else if (c == 0xF0) {
            u->need = 3;
            u->lo = 0x90;
        } else if (c >= 0xF1 && c <= 0xF3) {
            u->need = 3;
        } else if (c == 0xF4) {
            u->need = 3;
            u->hi = 0x8F;
        } else {
            return -1;
        }
    }
    return 0;
}

int ws_utf8_complete(const struct ws_utf8 *u)
{
    return u->need == 0;
}
