/* Output shared by the scenarios: one JSON line on stdout per run (what
 * bench/run collects), a readable table on stderr. */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stdio.h>

struct histogram;

/* `"name":{"p50":..,"p90":..,"p99":..,"max":..}` in microseconds. */
void report_latency_json(FILE *out, const char *name, const struct histogram *h);
/* One table line: `  name   p50 ... max` in milliseconds. */
void report_latency_row(FILE *out, const char *name, const struct histogram *h);
/* Write s as a JSON string literal. */
void report_json_string(FILE *out, const char *s);
/* VmRSS of a process in kB from /proc, -1 if unreadable. */
long report_rss_kb(long pid);
/* User plus system CPU time of a process (all its threads) in microseconds,
 * from /proc/<pid>/stat; -1 if unreadable. */
long long report_cpu_us(long pid);
/* The sum of report_cpu_us over pids; -1 if any is unreadable (or n is 0). */
long long report_cpu_total_us(const long *pids, unsigned n);
/* `"server_cpu_s":..,"cpu_us_per_delivery":..` (null when unmeasured,
 * cpu_us < 0, or no delivery), no trailing comma. */
void report_cpu_json(FILE *out, long long cpu_us, unsigned long long deliveries);
/* One table line for the same, when measured. */
void report_cpu_row(FILE *out, long long cpu_us, unsigned long long deliveries, double elapsed_s);

#endif
