/* Accept errors of the evhttp listeners (private).
 *
 * A listener whose accept() fails for want of file descriptors (EMFILE,
 * ENFILE) or memory stays readable, so libevent would call it again at once
 * and log every failure: a busy loop and a flood of log lines.  A guarded
 * listener pauses accepting for LISTENER_PAUSE_MS instead (the kernel keeps
 * the waiting connections in its backlog) and the failure is logged at most
 * once per LISTENER_LOG_MS, with how many there were. */
#ifndef SBR_NET_LISTENER_H
#define SBR_NET_LISTENER_H

#include <event2/event.h>
#include <event2/http.h>

#define LISTENER_PAUSE_MS 100
#define LISTENER_LOG_MS 10000

/* name is for the log ("127.0.0.1:8080", "worker address").  -1 if the
 * guard cannot be set up (the listener then runs unguarded). */
int listener_guard(struct event_base *base, struct evhttp_bound_socket *bound, const char *name);
/* Before the bound socket (or its evhttp) is freed. */
void listener_unguard(struct evhttp_bound_socket *bound);

#endif
