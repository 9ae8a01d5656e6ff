/* The one parser of listen addresses (see listen_addr.h). */
#include "util/listen_addr.h"

#include <string.h>

/* Decimal digits only (no sign, no spaces), at most 65535. */
static int listen_addr_port(const char *text, int *port)
{
    long value = 0;
    if (!*text)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (*p - '0');
        if (value > 65535)
            return -1;
    }
    *port = (int)value;
    return 0;
}

int listen_addr_parse(const char *text, char *host, size_t hostlen, int *port, int allow_any_port)
{
    const char *h = text, *colon;
    size_t hl;
    if (*text == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        h = text + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - text);
    }
    int p;
    if (hl >= hostlen || listen_addr_port(colon + 1, &p) < 0 || (p == 0 && !allow_any_port))
        return -1;
    if (hl == 1 && *h == '*')
        hl = 0;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = p;
    return 0;
}
