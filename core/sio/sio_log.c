/* Connection-level detail at log_level = debug: who connected, over which
 * transport and from where; refusals and their reasons; rooms joined and
 * left; and why a connection ended.  Each line carries the connection's
 * fields (conn, sid, nsp, user, transport, remote), so a JSON log can be
 * filtered by any of them. */
#include <stdio.h>

#include "log.h"
#include "sio/sio_log.h"

#define SIO_LOG_FIELDS 8

/* The connection's own fields into f; returns how many. */
static size_t sio_log_conn_fields(const struct sio_conn *c, struct log_field *f, char conn_id[24])
{
    snprintf(conn_id, 24, "%llu", (unsigned long long)c->id);
    const struct eio_session *s = c->client ? c->client->eio : NULL;
    size_t n = 0;
    f[n++] = (struct log_field){"conn", conn_id};
    f[n++] = (struct log_field){"sid", s ? eio_session_sid(s) : NULL};
    f[n++] = (struct log_field){"nsp", c->nsp};
    f[n++] = (struct log_field){"user", c->identity ? c->identity->user_id : NULL};
    f[n++] = (struct log_field){"transport", s ? eio_session_transport(s) : NULL};
    f[n++] = (struct log_field){"remote", s ? eio_session_remote_addr(s) : NULL};
    return n;
}

/* A line with the connection's fields and up to two more (key NULL: none). */
static void sio_log_event(const struct sio_conn *c, const char *key, const char *value, const char *key2,
                          const char *value2, const char *msg)
{
    if (!log_enabled(LOG_DEBUG_))
        return;
    struct log_field f[SIO_LOG_FIELDS];
    char conn_id[24];
    size_t n = sio_log_conn_fields(c, f, conn_id);
    if (key)
        f[n++] = (struct log_field){key, value};
    if (key2)
        f[n++] = (struct log_field){key2, value2};
    log_fields(LOG_DEBUG_, "sio", f, n, "%s", msg);
}

void sio_log_connected(const struct sio_conn *c)
{
    sio_log_event(c, NULL, NULL, NULL, NULL, "connected");
}

void sio_log_refused(const struct sio_conn *c, const char *reason)
{
    sio_log_event(c, "reason", reason ? reason : "refused", NULL, NULL, "connect refused");
}

void sio_log_closed(const struct sio_conn *c, const char *reason)
{
    sio_log_event(c, "reason", reason, NULL, NULL, "disconnected");
}

void sio_log_room(const struct sio_conn *c, const char *room, int joined)
{
    sio_log_event(c, "room", room, NULL, NULL, joined ? "joined a room" : "left a room");
}

void sio_log_event_refused(const struct sio_conn *c, const char *event, const char *reason)
{
    sio_log_event(c, "event", event, "reason", reason, "event refused");
}

void sio_log_reply(const struct sio_conn *c, const char *event, const char *data_json)
{
    if (!log_enabled(LOG_DEBUG_))
        return;
    /* Plugins answer a refused event {"ok": false, "error": "<code>"}. */
    json_t *o = json_loads(data_json, JSON_DECODE_ANY, NULL);
    json_t *ok = json_object_get(o, "ok");
    const char *error = json_string_value(json_object_get(o, "error"));
    if (json_is_false(ok) && error)
        sio_log_event(c, "event", event, "reason", error, "event refused");
    json_decref(o);
}
