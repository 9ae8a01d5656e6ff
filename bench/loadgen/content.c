#include "content.h"

#include <stdlib.h>
#include <string.h>

int content_read(const char *packet, size_t len, uint64_t *seq, uint64_t *sent_us)
{
    static const char key[] = "\"content\":";
    const char *stop = packet + len;
    const char *p = memmem(packet, len, key, sizeof key - 1);
    if (p)
        for (p += sizeof key - 1; p < stop && (*p == ' ' || *p == '\t'); p++)
            ;
    if (!p || p == stop || *p++ != '"')
        return -1;
    char *end;
    *seq = strtoull(p, &end, 10);
    if (end == p || *end != '.')
        return -1;
    *sent_us = strtoull(end + 1, NULL, 10);
    return 0;
}
