/* The process (private): start-up from conf.d, the event loop, signals
 * (SIGTERM/SIGINT drain, SIGHUP reload), sd_notify, shutdown. */
#ifndef SBR_CORE_DAEMON_H
#define SBR_CORE_DAEMON_H

struct event_base;

/* Validate conf_dir and, unless check_only, run the daemon until it stops;
 * with check_only and verbose, also print every key in force.  Returns the
 * process exit code. */
int daemon_main(const char *conf_dir, int check_only, int verbose);
/* The event loop, or NULL outside daemon_main. */
struct event_base *daemon_base(void);
/* Send a state ("READY=1", ...) to $NOTIFY_SOCKET when set; -1 on failure. */
int daemon_notify(const char *state);

#endif
