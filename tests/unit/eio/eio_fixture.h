/* An Engine.IO server on the test's loop, on a free loopback port, whose
 * layer above is a recorder: what the tests of eio_session.c and
 * eio_transport.c drive over plain sockets. */
#ifndef SBR_TEST_EIO_FIXTURE_H
#define SBR_TEST_EIO_FIXTURE_H

#include <event2/event.h>
#include "eio/eio_session.h"

/* What the layer above saw of one session. */
struct recorded {
    struct eio_session *session; /* NULL once closed */
    char messages[1024];         /* each text message, then "|" */
    int binary_messages;
    char close_reason[64];       /* "" while open */
};

extern struct event_base *fixture_base;
extern int fixture_port;
/* The sessions opened so far, in order. */
extern struct recorded fixture_sessions[16];
extern int fixture_opened;

/* Settings (key = value lines over the fixture's own), the loop, the
 * public server and Engine.IO at /socket.io/. */
void fixture_start(const char *settings);
void fixture_stop(void);
/* One request (method, path and query, body or NULL) on a new connection;
 * the status, the body copied into out. */
int fixture_http(const char *method, const char *target, const char *body, char *out, size_t cap);
/* A polling handshake: the sid in sid[64]; the index of its record. */
int fixture_handshake(char *sid);
/* Send a text packet ("4hello") to a session from the server side. */
void fixture_send(struct eio_session *s, const char *packet);

#endif
