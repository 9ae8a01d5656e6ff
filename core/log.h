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

#include "log_json.h"

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

#endif
