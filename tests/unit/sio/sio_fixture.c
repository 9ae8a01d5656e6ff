/* A Socket.IO server on the test's loop (see sio_fixture.h). */
#include "sio_fixture.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "conf/conf.h"
#include "core_fixture.h"
#include "hooks/hooks.h"
#include "loopback.h"
#include "net/http.h"
#include "sio/sio.h"
#include "util/worker_id.h"

struct event_base *sio_test_base;
int sio_test_port;

void sio_fixture_start(const char *settings)
{
    char text[1024];
    sio_test_port = loopback_free_port();
    ck_assert_int_gt(sio_test_port, 0);
    snprintf(text, sizeof(text), "listen = 127.0.0.1:%d\n%s", sio_test_port, settings);
    core_fixture_settings(text);
    sio_test_base = event_base_new();
    ck_assert_int_eq(worker_id_init(), 0);
    ck_assert_int_eq(bus_init(sio_test_base, NULL), 0);
    ck_assert_int_eq(sio_server_init(sio_test_base, "/socket.io/"), 0);
    ck_assert_int_eq(http_server_start(sio_test_base), 0);
}

void sio_fixture_stop(void)
{
    http_server_free();
    sio_server_free();
    bus_free();
    hooks_free();
    event_base_free(sio_test_base);
    settings_free();
}

void sio_fixture_pump(int ms)
{
    loopback_pump(sio_test_base, ms);
}

void client_open(char *sid)
{
    char out[1024];
    loopback_exchange(sio_test_base, sio_test_port,
                      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", out,
                      sizeof(out));
    ck_assert_int_eq(loopback_status(out), 200);
    ck_assert_int_eq(sscanf(loopback_body(out), "0{\"sid\":\"%63[^\"]", sid), 1);
}

int client_post(const char *sid, const char *payload)
{
    char request[4096], out[1024];
    snprintf(request, sizeof(request),
             "POST /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             sid, strlen(payload), payload);
    loopback_exchange(sio_test_base, sio_test_port, request, out, sizeof(out));
    return loopback_status(out);
}

/* One GET, waiting up to ms for its answer; 0 if none came (the GET is
 * then still held by the server: the caller stops polling). */
static int client_poll(const char *sid, char *out, size_t cap, int ms)
{
    char request[512], response[8192];
    snprintf(request, sizeof(request),
             "GET /socket.io/?EIO=4&transport=polling&sid=%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", sid);
    int fd = loopback_connect(sio_test_port), closed;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(loopback_send(fd, request, strlen(request)), 0);
    size_t n = loopback_read(sio_test_base, fd, response, sizeof(response), ms, &closed);
    close(fd);
    snprintf(out, cap, "%s", loopback_body(response));
    return n > 0;
}

int client_poll_for(const char *sid, const char *want, char *out, size_t cap)
{
    char got[4096];
    out[0] = '\0';
    for (int i = 0; i < 8 && !strstr(out, want); i++) {
        if (!client_poll(sid, got, sizeof(got), 2000))
            break;
        strncat(out, got, cap - strlen(out) - 1);
        strncat(out, "\x1e", cap - strlen(out) - 1);
    }
    return strstr(out, want) != NULL;
}
