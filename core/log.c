/* One line per message on stderr, with a UTC timestamp, level and component. */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int log_level = LOG_INFO_;

void log_set_level(int level)
{
    if (level >= LOG_DEBUG_ && level <= LOG_ERROR_)
        log_level = level;
}

int log_get_level(void)
{
    return log_level;
}

void log_vmsg(int level, const char *component, const char *fmt, va_list ap)
{
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < log_level)
        return;
    if (level < LOG_DEBUG_ || level > LOG_ERROR_)
        level = LOG_ERROR_;
    /* The real time, not the test-shiftable clock: logs are read by people. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L, names[level],
                     component ? component : "core");
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = m < 0 ? (size_t)n : strlen(line);
    /* One message, one line: control characters from untrusted text would
     * forge or split lines. */
    for (size_t i = (size_t)n; i < len; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = ' ';
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

void log_msg(int level, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, component, fmt, ap);
    va_end(ap);
}
