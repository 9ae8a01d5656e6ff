/* A validating scanner and a quoter for JSON text (see json_text.h). */
#include "util/json_text.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct json_scan {
    const unsigned char *p, *end;
};

/* What a byte is inside a string: 0 one that stands for itself (printable
 * ASCII but '"' and '\\'), 1 anything else (a quote, a backslash, a
 * control character, a byte of a UTF-8 sequence), so that the common run
 * of plain characters is skipped by one table lookup each. */
static const unsigned char json_special[256] = {
    [0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static void scan_blanks(struct json_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int scan_peek(const struct json_scan *s)
{
    return s->p < s->end ? *s->p : -1;
}

/* Bytes of the UTF-8 sequence at p (1 to 4), or 0 if it is not valid:
 * overlong forms, surrogates and code points past U+10FFFF are not. */
static size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n <= 1 || (size_t)(end - p) < n)
        return n == 1 ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* The second byte's range rules out overlong forms, surrogates and
     * code points past U+10FFFF. */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

/* Four hex digits at p: their value, or -1. */
static long scan_hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        int d = c >= '0' && c <= '9' ? (int)(c - '0') : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
                : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10) : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A \u escape at p (just past the 'u'): the bytes it takes, a surrogate
 * pair as one; 0 if it is not valid. */
static size_t scan_unicode_escape(const unsigned char *p, const unsigned char *end)
{
    long v = scan_hex4(p, end);
    if (v < 0 || (v >= 0xDC00 && v <= 0xDFFF))
        return 0;
    if (v < 0xD800 || v > 0xDBFF)
        return 4;
    /* A high surrogate must be followed by \u and a low one. */
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u')
        return 0;
    long low = scan_hex4(p + 6, end);
    return low >= 0xDC00 && low <= 0xDFFF ? 10 : 0;
}

/* A string at s->p (on its opening quote); moves past the closing one. */
static int scan_string(struct json_scan *s)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    while (p < end) {
        while (p < end && !json_special[*p])
            p++;
        if (p == end)
            break;
        unsigned c = *p;
        if (c == '"') {
            s->p = p + 1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (end - p < 2)
                return -1;
            unsigned e = p[1];
            if (e == 'u') {
                size_t n = scan_unicode_escape(p + 2, end);
                if (!n)
                    return -1;
                p += 2 + n;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                       e == 't') {
                p += 2;
            } else {
                return -1;
            }
            continue;
        }
        size_t n = c < 0x80 ? 1 : utf8_sequence(p, end);
        if (!n)
            return -1;
        p += n;
    }
    return -1;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* An integer's digits fit int64_t (jansson refuses the others); JSON has
 * no leading zeros, so the longest in range have 19 digits. */
static int integer_in_range(const unsigned char *digits, size_t n, int negative)
{
    const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
    if (n != 19)
        return n < 19;
    return memcmp(digits, limit, 19) <= 0;
}

/* A real's value is finite (jansson refuses an overflow, not an underflow). */
static int real_in_range(const unsigned char *start, size_t n)
{
    char copy[128];
    if (n >= sizeof(copy)) {
        /* Too long to copy: judge by the decimal exponent alone; a value
         * this long that sits within a digit of DBL_MAX is let through. */
        const unsigned char *p = start, *end = start + n;
        long lead = 0, exp = 0;
        int seen = 0, neg = 0;
        for (p += *p == '-'; p < end && is_digit(*p); p++)
            if ((seen |= *p != '0'))
                lead++;
        while (p < end && *p != 'e' && *p != 'E')
            p++;
        if (p < end) {
            neg = p[1] == '-';
            for (p += 1 + (p[1] == '-' || p[1] == '+'); p < end && is_digit(*p) && exp < 100000; p++)
                exp = exp * 10 + (*p - '0');
        }
        return (neg ? lead - exp : lead + exp) <= 309;
    }
    memcpy(copy, start, n);
    copy[n] = '\0';
    errno = 0;
    double v = strtod(copy, NULL);
    return !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL));
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, within jansson's ranges. */
static int scan_number(struct json_scan *s)
{
    const unsigned char *start = s->p;
    int negative = scan_peek(s) == '-';
    if (negative)
        s->p++;
    if (scan_peek(s) == '0') {
        s->p++;
    } else if (is_digit(scan_peek(s))) {
        while (is_digit(scan_peek(s)))
            s->p++;
    } else {
        return -1;
    }
    if (scan_peek(s) == '.') {
        s->p++;
        if (!is_digit(scan_peek(s)))
            return -1;
        while (is_digit(scan_peek(s)))
            s->p++;
    }
    if (scan_peek(s) == 'e' || scan_peek(s) == 'E') {
        s->p++;
        if (scan_peek(s) == '+' || scan_peek(s) == '-')
            s->p++;
        if (!is_digit(scan_peek(s)))
            return -1;
        while (is_digit(scan_peek(s)))
            s->p++;
    }
    size_t n = (size_t)(s->p - start);
    int real = memchr(start, '.', n) || memchr(start, 'e', n) || memchr(start, 'E', n);
    if (real ? !real_in_range(start, n) : !integer_in_range(start + negative, n - (size_t)negative, negative))
        return -1;
    return 0;
}

static int scan_word(struct json_scan *s, const char *word, size_t n)
{
    if ((size_t)(s->end - s->p) < n)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (unsigned char)word[i])
            return -1;
    s->p += n;
    return 0;
}

/* A value that is neither an array nor an object. */
static int scan_scalar(struct json_scan *s)
{
    switch (scan_peek(s)) {
    case '"':
        return scan_string(s);
    case 't':
        return scan_word(s, "true", 4);
    case 'f':
        return scan_word(s, "false", 5);
    case 'n':
        return scan_word(s, "null", 4);
    default:
        return scan_number(s);
    }
}

/* An object's `"key":` at s->p (blanks before it skipped). */
static int scan_key(struct json_scan *s)
{
    scan_blanks(s);
    if (scan_peek(s) != '"' || scan_string(s) != 0)
        return -1;
    scan_blanks(s);
    if (scan_peek(s) != ':')
        return -1;
    s->p++;
    return 0;
}

/* The open containers, one bit each (1: an object). */
struct json_nest {
    unsigned depth;
    uint8_t objects[JSON_TEXT_DEPTH_MAX / 8];
};

static int nest_is_object(const struct json_nest *n)
{
    unsigned i = n->depth - 1;
    return (n->objects[i / 8] >> (i % 8)) & 1;
}

/* Open a container at s->p; 1 if it is empty and closed at once (then
 * popped), 0 if a value or key follows, -1 on error. */
static int scan_open(struct json_scan *s, struct json_nest *n)
{
    int object = *s->p == '{';
    if (n->depth == JSON_TEXT_DEPTH_MAX)
        return -1;
    unsigned i = n->depth++;
    if (object)
        n->objects[i / 8] |= (uint8_t)(1u << (i % 8));
    else
        n->objects[i / 8] &= (uint8_t)~(1u << (i % 8));
    s->p++;
    scan_blanks(s);
    if (scan_peek(s) == (object ? '}' : ']')) {
        s->p++;
        n->depth--;
        return 1;
    }
    return object ? scan_key(s) : 0;
}

/* After a value inside containers: close those that end here, then stand
 * before the next value (past ',' and, in an object, the key).  1 when
 * the outermost container closed, 0 for a next value, -1 on error. */
static int scan_after_value(struct json_scan *s, struct json_nest *n)
{
    while (n->depth) {
        scan_blanks(s);
        int c = scan_peek(s);
        int object = nest_is_object(n);
        if (c == ',') {
            s->p++;
            return object ? scan_key(s) : 0;
        }
        if (c != (object ? '}' : ']'))
            return -1;
        s->p++;
        n->depth--;
    }
    return 1;
}

/* One value at s->p (blanks skipped), nested without recursion. */
static int scan_value(struct json_scan *s)
{
    struct json_nest n;
    n.depth = 0;
    for (;;) {
        scan_blanks(s);
        int c = scan_peek(s);
        int r;
        if (c == '[' || c == '{') {
            r = scan_open(s, &n);
            if (r < 0)
                return -1;
            if (r == 0)
                continue; /* a value comes next */
        } else if (scan_scalar(s) != 0) {
            return -1;
        }
        r = scan_after_value(s, &n);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
}

int json_text_valid(const char *text, size_t len)
{
    if (!text)
        return 0;
    struct json_scan s = {(const unsigned char *)text, (const unsigned char *)text + len};
    if (scan_value(&s) != 0)
        return 0;
    scan_blanks(&s);
    return s.p == s.end;
}

size_t json_text_value_end(const char *text, size_t len)
{
    if (!text)
        return 0;
    struct json_scan s = {(const unsigned char *)text, (const unsigned char *)text + len};
    if (scan_value(&s) != 0)
        return 0;
    return (size_t)(s.p - (const unsigned char *)text);
}

/* The escape of a byte below 0x20 other than the short ones: \u00XX. */
static const char json_hex[] = "0123456789ABCDEF";

static char short_escape(unsigned c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    default: return 0;
    }
}

size_t json_text_quoted_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t out = 2;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && !json_special[*p])
            p++;
        out += (size_t)(p - run);
        if (p == end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t k = utf8_sequence(p, end);
            if (!k)
                return 0;
            out += k;
            p += k;
            continue;
        }
        out += short_escape(c) ? 2 : c < 0x20 ? 6 : 1;
        p++;
    }
    return out;
}

size_t json_text_quote(const char *s, size_t n, char *out)
{
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        size_t run = i;
        while (run < n && !json_special[(unsigned char)s[run]])
            run++;
        if (run > i) { /* plain characters, copied as one run */
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            if (i == n)
                break;
        }
        unsigned c = (unsigned char)s[i];
        char e = short_escape(c);
        if (e) {
            *o++ = '\\';
            *o++ = e;
        } else if (c < 0x20) {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = json_hex[c >> 4];
            *o++ = json_hex[c & 15];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    return (size_t)(o - out);
}
