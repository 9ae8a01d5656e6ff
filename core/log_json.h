/* JSON log lines (layer 0, private): what a line's fields are, and their
 * escaping.  log.c writes lines with it; it calls nothing. */
#ifndef SBR_CORE_LOG_JSON_H
#define SBR_CORE_LOG_JSON_H

#include <stddef.h>

/* A value shown with a message; NULL values are left out. */
struct log_field {
    const char *key;
    const char *value;
};

/* Append s as a JSON string (quotes included) to buf of size cap at *len:
 * control characters, quotes and backslashes escaped, bytes that are not
 * UTF-8 replaced by U+FFFD.  Stops, leaving room for a closing quote, when
 * buf is full; returns 0, or -1 if s was cut. */
int log_json_string(char *buf, size_t cap, size_t *len, const char *s);
/* One JSON log line (newline included) into buf; returns its length. */
size_t log_json_line(char *buf, size_t cap, const char *ts, const char *level, const char *component, const char *msg,
                     const struct log_field *fields, size_t n);

#endif
