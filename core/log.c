/* One line per message on stderr: a UTC timestamp, the level, the component,
 * the message and its fields, as text or as JSON (log_json.c). */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A message longer than this is cut: one line stays one write. */
#define LOG_LINE_MAX 4096

static int log_level = LOG_INFO_;
static int log_format = LOG_FORMAT_TEXT;

void log_set_level(int level)
{
    if (level >= LOG_DEBUG_ && level <= LOG_ERROR_)
        log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

int log_enabled(int level)
{
    return level >= log_level;
}

void log_set_format(int format)
{
    log_format = format == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
}

int log_get_format(void)
{
    return log_format;
}

/* One message, one line: control characters from untrusted text would
 * forge or split lines. */
static void log_flatten(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

/* " key=value", the value quoted when it has spaces or quotes (or is empty). */
static size_t log_text_field(char *buf, size_t cap, const struct log_field *f)
{
    int quote = !*f->value || strpbrk(f->value, " \"=") != NULL;
    int n = snprintf(buf, cap, " %s=%s", f->key, quote ? "\"" : "");
    size_t len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
    for (const char *v = f->value; *v && len + 3 < cap; v++) {
        if (quote && (*v == '"' || *v == '\\'))
            buf[len++] = '\\';
        buf[len++] = *v;
    }
    if (quote && len + 1 < cap)
        buf[len++] = '"';
    buf[len] = '\0';
    return len;
}

static size_t log_text_line(char *line, size_t cap, const char *ts, const char *level, const char *component,
                            const char *msg, const struct log_field *fields, size_t n)
{
    int w = snprintf(line, cap - 1, "%s %s %s: %s", ts, level, component, msg);
    size_t len = w < 0 ? 0 : (size_t)w < cap - 1 ? (size_t)w : cap - 2;
    for (size_t i = 0; i < n; i++)
        if (fields[i].value && len < cap - 2)
            len += log_text_field(line + len, cap - 1 - len, &fields[i]);
    line[len] = '\0';
    log_flatten(line);
    line[len++] = '\n';
    return len;
}

static void log_write(int level, const char *component, const struct log_field *fields, size_t n, const char *fmt,
                      va_list ap)
{
    static const char *const upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    static const char *const lower[] = {"debug", "info", "warn", "error"};
    if (level < log_level)
        return;
    if (level < LOG_DEBUG_ || level > LOG_ERROR_)
        level = LOG_ERROR_;
    /* The real time, not the test-shiftable clock: logs are read by people. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[80], msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000L);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    if (!component)
        component = "core";
    size_t len = log_format == LOG_FORMAT_JSON
                     ? log_json_line(line, sizeof(line), ts, lower[level], component, msg, fields, n)
                     : log_text_line(line, sizeof(line), ts, upper[level], component, msg, fields, n);
    fwrite(line, 1, len, stderr);
}

void log_vmsg(int level, const char *component, const char *fmt, va_list ap)
{
    log_write(level, component, NULL, 0, fmt, ap);
}

void log_msg(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(level, component, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_fields(int level, const char *component, const struct log_field *fields, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(level, component, fields, n, fmt, ap);
    va_end(ap);
}
