/* A Socket.IO server on the test's loop, on a free loopback port, and
 * polling clients over plain sockets: what the tests of core/sio drive.
 * Hooks are registered straight with core/hooks, as a plugin's would be. */
#ifndef SBR_TEST_SIO_FIXTURE_H
#define SBR_TEST_SIO_FIXTURE_H

#include <stddef.h>
#include <event2/event.h>
#include <superbot-realtime/plugin.h>

extern struct event_base *sio_test_base;
extern int sio_test_port;

/* Settings (key = value lines), the loop, the bus (no provider), the
 * server at /socket.io/ and the public listener. */
void sio_fixture_start(const char *settings);
void sio_fixture_stop(void);
/* Run the loop's ready work for about ms. */
void sio_fixture_pump(int ms);

/* A polling client: an Engine.IO session; its sid in sid[64]. */
void client_open(char *sid);
/* POST a payload ("40", "42[\"x\"]") to the session; the HTTP status. */
int client_post(const char *sid, const char *payload);
/* GET until `want` is in what came (packets separated by \x1e), or about
 * two seconds passed; all of it into out.  A GET is never left behind while
 * it may still be answered: evhttp would not notice, and what it carries
 * would be lost. */
int client_poll_for(const char *sid, const char *want, char *out, size_t cap);

#endif
