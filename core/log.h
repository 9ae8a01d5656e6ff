/* Logging to stderr, one line per message (private).  Text lines read
 *     2026-11-26T01:02:03.456Z LEVEL component: message key=value ...
 * and JSON lines (log_format = json) read
 *     {"ts":"2026-11-26T01:02:03.456Z","level":"info","component":"sio","msg":"...","key":"value"}
 * with the same fields. */
#ifndef SBR_CORE_LOG_H
#define SBR_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum { LOG_DEBUG_ = 0, LOG_INFO_ = 1, LOG_WARN_ = 2, LOG_ERROR_ = 3 }; /* = enum sbr_log_level */
enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };

/* A value shown with a message; NULL values are left out. */
struct log_field {
    const char *key;
    const char *value;
};

void log_set_level(int level);
int log_get_level(void);
/* 1 if messages of this level are written (to skip preparing fields). */
int log_enabled(int level);
void log_set_format(int format);
int log_get_format(void);
void log_msg(int level, const char *component, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *component, const char *fmt, va_list ap);
/* A message with fields (n of them). */
void log_fields(int level, const char *component, const struct log_field *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define log_debug(comp, ...) log_msg(LOG_DEBUG_, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO_, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN_, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR_, comp, __VA_ARGS__)

/* --- log_json.c ---------------------------------------------------------- */

/* Append s as a JSON string (quotes included) to buf of size cap at *len:
 * control characters, quotes and backslashes escaped, bytes that are not
 * UTF-8 replaced by U+FFFD.  Stops, leaving room for a closing quote, when
 * buf is full; returns 0, or -1 if s was cut. */
int log_json_string(char *buf, size_t cap, size_t *len, const char *s);
/* One JSON log line (newline included) into buf; returns its length. */
size_t log_json_line(char *buf, size_t cap, const char *ts, const char *level, const char *component, const char *msg,
                     const struct log_field *fields, size_t n);

#endif
