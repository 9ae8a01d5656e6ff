/* A fake core for driving a bus plugin without the daemon: loads the
 * plugin's .so, hands it a services table with a settable clock, timers on
 * a private libevent loop, captured logs, state reports, deliveries and
 * metrics.  One plugin at a time. */
#ifndef SBR_TEST_FAKE_HOST_H
#define SBR_TEST_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <superbot-realtime/plugin.h>

/* The .so of a plugin in the build tree, e.g. fake_host_plugin_path("bus-local"). */
const char *fake_host_plugin_path(const char *name);

/* Load a plugin with config given as "key", "value", ..., NULL (undeclared
 * keys read as their declared default).  Returns on_load's result. */
int fake_host_load(const char *path, const char *const *config);
void fake_host_unload(void);
/* In a forked child: forget the parent's plugin and loop without touching
 * them (their sockets and epoll set are shared with the parent), so the
 * child can load a plugin of its own. */
void fake_host_abandon(void);

/* What the plugin registered with bus_provide. */
const sbr_bus_provider *fake_host_provider(void);
void *fake_host_ctx(void);

/* Move the clock api->now_ms reads (real time plus an offset). */
void fake_host_advance(int64_t ms);
/* Stop the clock where it is: from now on only fake_host_advance moves it. */
void fake_host_freeze_clock(void);
/* Run the loop until *flag is non-zero or timeout_ms of real time pass; returns *flag. */
int fake_host_run_until(const volatile int *flag, int timeout_ms);
/* Run the loop until cond(ud) or timeout; returns cond(ud). */
int fake_host_run_until_fn(int (*cond)(void *ud), void *ud, int timeout_ms);
/* Run the loop for ms of real time. */
void fake_host_run_for(int ms);

/* Last bus_set_state report: state (-1 before any), its detail; count of reports. */
int fake_host_bus_state(void);
const char *fake_host_bus_detail(void);
int fake_host_bus_reports(void);
/* The error set by set_error during on_load, or "". */
const char *fake_host_error(void);
/* Everything logged, one line per call. */
const char *fake_host_log(void);
/* Messages handed to bus_deliver: count, and the i-th topic and data. */
size_t fake_host_delivered(void);
const char *fake_host_delivered_topic(size_t i);
const char *fake_host_delivered_data(size_t i, size_t *len);
/* The value of a gauge set with metric_set (-1 if never set). */
double fake_host_gauge(const char *name);
/* Timers started and not yet fired or stopped. */
int fake_host_active_timers(void);

#endif
