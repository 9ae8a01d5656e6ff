#include "report.h"

#include <string.h>

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
