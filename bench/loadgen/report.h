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

#endif
