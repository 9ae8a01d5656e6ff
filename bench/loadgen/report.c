#include "report.h"

#include <string.h>
#include <unistd.h>

#include "histogram.h"

void report_latency_json(FILE *out, const char *name, const struct histogram *h)
{
    fprintf(out, "\"%s\":{\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu}", name,
            (unsigned long long)histogram_quantile(h, 0.50), (unsigned long long)histogram_quantile(h, 0.90),
            (unsigned long long)histogram_quantile(h, 0.99), (unsigned long long)histogram_max(h));
}

void report_latency_row(FILE *out, const char *name, const struct histogram *h)
{
    fprintf(out, "  %-22s p50 %8.3f ms   p90 %8.3f ms   p99 %8.3f ms   max %8.3f ms\n", name,
            (double)histogram_quantile(h, 0.50) / 1000.0, (double)histogram_quantile(h, 0.90) / 1000.0,
            (double)histogram_quantile(h, 0.99) / 1000.0, (double)histogram_max(h) / 1000.0);
}

void report_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

long report_rss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            sscanf(line + 6, "%ld", &kb);
            break;
        }
    }
    fclose(f);
    return kb;
}

long long report_cpu_us(long pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* The command name may hold spaces and parentheses: fields count from
     * the last ')'. utime and stime are fields 14 and 15. */
    const char *p = strrchr(line, ')');
    unsigned long long utime, stime;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        return -1;
    return (long long)((utime + stime) * 1000000ull / (unsigned long long)hz);
}

long long report_cpu_total_us(const long *pids, unsigned n)
{
    long long total = 0;
    for (unsigned i = 0; i < n; i++) {
        long long us = report_cpu_us(pids[i]);
        if (us < 0)
            return -1;
        total += us;
    }
    return n ? total : -1;
}

void report_cpu_json(FILE *out, long long cpu_us, unsigned long long deliveries)
{
    if (cpu_us < 0) {
        fprintf(out, "\"server_cpu_s\":null,\"cpu_us_per_delivery\":null");
        return;
    }
    fprintf(out, "\"server_cpu_s\":%.3f,\"cpu_us_per_delivery\":", (double)cpu_us / 1e6);
    if (deliveries)
        fprintf(out, "%.4f", (double)cpu_us / (double)deliveries);
    else
        fprintf(out, "null");
}

void report_cpu_row(FILE *out, long long cpu_us, unsigned long long deliveries, double elapsed_s)
{
    if (cpu_us < 0 || !deliveries)
        return;
    fprintf(out, "  %-22s %10.3f us per delivery (%.2f s of CPU, %.0f %% of one core)\n", "server CPU",
            (double)cpu_us / (double)deliveries, (double)cpu_us / 1e6,
            elapsed_s > 0 ? (double)cpu_us / 1e4 / elapsed_s : 0);
}
