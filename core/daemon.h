/* The daemon (layer 7, private): start-up from conf.d, the event loop,
 * wiring the layers (worker identity, bus, net, Engine.IO and Socket.IO at
 * their path, health, plugins), signals (SIGTERM/SIGINT drain, SIGHUP
 * reload), sd_notify, shutdown.  Calls every layer below; nothing calls it
 * but main. */
#ifndef SBR_CORE_DAEMON_H
#define SBR_CORE_DAEMON_H

struct event_base;

/* Validate conf_dir and, unless check_only, run the daemon until it stops;
 * with check_only and verbose, also print every key in force.  Returns the
 * process exit code. */
int daemon_main(const char *conf_dir, int check_only, int verbose);
/* Send a state ("READY=1", ...) to $NOTIFY_SOCKET when set; -1 on failure. */
int daemon_notify(const char *state);

#endif
