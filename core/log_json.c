/* Log lines as JSON objects, one per line, for log shippers:
 *     {"ts":"...","level":"info","component":"sio","msg":"...","conn":"7"}
 * Every string is escaped so that any message, however hostile its text,
 * stays one valid JSON line. */
#include "log_json.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (NUL-terminated), or 0. */
static size_t log_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len <= 1)
        return len;
    unsigned cp = c & (0x7fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The escaped form of one byte that needs it, or NULL. */
static const char *log_json_escape(unsigned char c, char tmp[8])
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(tmp, 8, "\\u%04x", c);
        return tmp;
    }
    return NULL;
}

int log_json_string(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = *len;
    if (cap - n < 3)
        return -1;
    buf[n++] = '"';
    const unsigned char *p = (const unsigned char *)s;
    int cut = 0;
    while (*p) {
        char tmp[8];
        size_t seq = log_utf8_len(p);
        const char *esc = seq == 1 ? log_json_escape(*p, tmp) : seq == 0 ? "\\ufffd" : NULL;
        size_t out = esc ? strlen(esc) : seq;
        /* Room for this piece and the closing quote and NUL. */
        if (n + out + 2 > cap) {
            cut = 1;
            break;
        }
        memcpy(buf + n, esc ? esc : (const char *)p, out);
        n += out;
        p += seq ? seq : 1;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    *len = n;
    return cut ? -1 : 0;
}

static void log_json_raw(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap)
        return;
    memcpy(buf + *len, s, n + 1);
    *len += n;
}

size_t log_json_line(char *buf, size_t cap, const char *ts, const char *level, const char *component, const char *msg,
                     const struct log_field *fields, size_t n)
{
    const struct log_field head[] = {{"ts", ts}, {"level", level}, {"component", component}, {"msg", msg}};
    size_t len = 0;
    /* Keep room for the closing "}\n" whatever is cut. */
    size_t room = cap - 3;
    log_json_raw(buf, room, &len, "{");
    for (size_t i = 0; i < 4 + n; i++) {
        const struct log_field *f = i < 4 ? &head[i] : &fields[i - 4];
        /* A field starts only with room for its key and a short value. */
        if (!f->value || len + strlen(f->key) + 16 > room)
            continue;
        if (i > 0)
            log_json_raw(buf, room, &len, ",");
        log_json_string(buf, room, &len, f->key);
        log_json_raw(buf, room, &len, ":");
        log_json_string(buf, room, &len, f->value);
    }
    memcpy(buf + len, "}\n", 3);
    return len + 2;
}
