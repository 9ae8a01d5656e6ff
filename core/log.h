/* Logging to stderr: "2026-11-26T01:02:03.456Z LEVEL component: message" (private). */
#ifndef SBR_CORE_LOG_H
#define SBR_CORE_LOG_H

#include <stdarg.h>

enum { LOG_DEBUG_ = 0, LOG_INFO_ = 1, LOG_WARN_ = 2, LOG_ERROR_ = 3 }; /* = enum sbr_log_level */

void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *component, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_vmsg(int level, const char *component, const char *fmt, va_list ap);

#define log_debug(comp, ...) log_msg(LOG_DEBUG_, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO_, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN_, comp, __VA_ARGS__)
#define log_error(comp, ...) log_msg(LOG_ERROR_, comp, __VA_ARGS__)

#endif
