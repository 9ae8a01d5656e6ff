/* An Engine.IO server on the test's loop (see eio_fixture.h). */
#include "eio_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "conf/conf.h"
#include "core_fixture.h"
#include "loopback.h"
#include "net/http.h"
#include "util/worker_id.h"

struct event_base *fixture_base;
int fixture_port;
struct recorded fixture_sessions[16];
int fixture_opened;

static void *on_open(struct eio_session *s)
{
    if (fixture_opened == 16)
        return NULL;
    struct recorded *r = &fixture_sessions[fixture_opened++];
    memset(r, 0, sizeof(*r));
    r->session = s;
    return r;
}

static void on_message(void *owner, int binary, const uint8_t *data, size_t len)
{
    struct recorded *r = owner;
    if (binary) {
        r->binary_messages++;
        return;
    }
    size_t used = strlen(r->messages);
    snprintf(r->messages + used, sizeof(r->messages) - used, "%.*s|", (int)len, (const char *)data);
}

static void on_close(void *owner, const char *reason)
{
    struct recorded *r = owner;
    r->session = NULL;
    snprintf(r->close_reason, sizeof(r->close_reason), "%s", reason);
}

static const struct eio_handler recorder = {on_open, on_message, on_close};

void fixture_start(const char *settings)
{
    char text[1024];
    fixture_port = loopback_free_port();
    ck_assert_int_gt(fixture_port, 0);
    snprintf(text, sizeof(text), "listen = 127.0.0.1:%d\n%s", fixture_port, settings);
    core_fixture_settings(text);
    fixture_base = event_base_new();
    fixture_opened = 0;
    ck_assert_int_eq(worker_id_init(), 0);
    ck_assert_int_eq(bus_init(fixture_base, NULL), 0);
    ck_assert_int_eq(eio_server_init(fixture_base, "/socket.io/", &recorder), 0);
    ck_assert_int_eq(http_server_start(fixture_base), 0);
}

void fixture_stop(void)
{
    http_server_free();
    eio_server_free();
    bus_free();
    event_base_free(fixture_base);
    settings_free();
}

int fixture_http(const char *method, const char *target, const char *body, char *out, size_t cap)
{
    char request[8192], response[8192];
    snprintf(request, sizeof(request), "%s %s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             method, target, body ? strlen(body) : 0, body ? body : "");
    loopback_exchange(fixture_base, fixture_port, request, response, sizeof(response));
    snprintf(out, cap, "%s", loopback_body(response));
    return loopback_status(response);
}

int fixture_handshake(char *sid)
{
    char body[512];
    ck_assert_int_eq(fixture_http("GET", "/socket.io/?EIO=4&transport=polling", NULL, body, sizeof(body)), 200);
    const char *at = strstr(body, "\"sid\":\"");
    ck_assert_ptr_nonnull(at);
    ck_assert_int_eq(sscanf(at + 7, "%63[^\"]", sid), 1);
    return fixture_opened - 1;
}

void fixture_send(struct eio_session *s, const char *packet)
{
    struct eio_buf *b = eio_buf_new(packet, strlen(packet), 0);
    ck_assert_int_eq(eio_session_send(s, b), 0);
    eio_buf_unref(b);
}
