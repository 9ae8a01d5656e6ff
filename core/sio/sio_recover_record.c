/* The record of a lost connection (see sio_recover_record.h). */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bus.h"
#include "metrics.h"
#include "settings.h"
#include "sio/sio_recover_record.h"

#define RECORD_KEY_PREFIX "recovery:session:"
#define RECORD_VERSION 1

void sio_record_key(const char *pid, char *out)
{
    snprintf(out, SIO_RECORD_KEY_MAX, RECORD_KEY_PREFIX "%s", pid);
}

static json_t *record_rooms(const struct sio_conn *c)
{
    json_t *rooms = json_array();
    for (size_t i = 0; rooms && i < c->n_rooms; i++)
        json_array_append_new(rooms, json_string(sio_room_name(c->rooms[i].room)));
    return rooms;
}

static json_t *record_optional(const char *text)
{
    return text ? json_string(text) : json_null();
}

char *sio_record_encode(const struct sio_conn *c, size_t *len)
{
    if (!c->stream)
        return NULL;
    char start[24];
    snprintf(start, sizeof(start), "%" PRIu64, c->stream->start);
    const sbr_identity *who = c->identity;
    json_t *doc = json_pack("{s:i, s:s, s:s, s:o, s:o, s:s, s:o}", "v", RECORD_VERSION, "sid", c->stream->sid, "nsp",
                            c->nsp, "user", record_optional(who ? who->user_id : NULL), "session",
                            record_optional(who ? who->session_id : NULL), "start", start, "rooms",
                            record_rooms(c));
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text && len)
        *len = strlen(text);
    return text;
}

void sio_record_clear(struct sio_record *r)
{
    for (size_t i = 0; i < r->n_rooms; i++)
        free(r->rooms[i]);
    free(r->rooms);
    free(r->nsp);
    free(r->user_id);
    free(r->session_id);
    memset(r, 0, sizeof(*r));
}

/* A string member (or NULL when absent or null): 0, -1 when of another type. */
static int record_string(json_t *doc, const char *name, char **out)
{
    json_t *v = json_object_get(doc, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return -1;
    *out = strdup(json_string_value(v));
    return *out ? 0 : -1;
}

static int record_rooms_read(json_t *doc, struct sio_record *r)
{
    json_t *rooms = json_object_get(doc, "rooms");
    if (!json_is_array(rooms))
        return -1;
    size_t n = json_array_size(rooms);
    r->rooms = n ? calloc(n, sizeof(*r->rooms)) : NULL;
    if (n && !r->rooms)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *room = json_string_value(json_array_get(rooms, i));
        if (!room || !(r->rooms[i] = strdup(room)))
            return -1;
        r->n_rooms++;
    }
    return 0;
}

static int record_fields(json_t *doc, struct sio_record *r)
{
    json_t *v = json_object_get(doc, "v");
    const char *sid = json_string_value(json_object_get(doc, "sid"));
    const char *start = json_string_value(json_object_get(doc, "start"));
    char *end = NULL;
    if (!json_is_integer(v) || json_integer_value(v) != RECORD_VERSION || !sid || !sio_id_valid(sid) || !start)
        return -1;
    r->start = strtoull(start, &end, 10);
    if (!*start || *end)
        return -1;
    memcpy(r->sid, sid, SIO_ID_LEN + 1);
    if (record_string(doc, "nsp", &r->nsp) != 0 || !r->nsp || record_string(doc, "user", &r->user_id) != 0 ||
        record_string(doc, "session", &r->session_id) != 0)
        return -1;
    return record_rooms_read(doc, r);
}

int sio_record_decode(const char *text, size_t len, struct sio_record *out)
{
    memset(out, 0, sizeof(*out));
    json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
    int rc = json_is_object(doc) ? record_fields(doc, out) : -1;
    json_decref(doc);
    if (rc != 0)
        sio_record_clear(out);
    return rc;
}

static void record_saved(const sbr_state_reply *reply, void *userdata)
{
    (void)reply;
    (void)userdata;
}

void sio_record_save(const struct sio_conn *c)
{
    size_t len;
    char *text = sio_record_encode(c, &len);
    if (!text)
        return;
    char key[SIO_RECORD_KEY_MAX];
    sio_record_key(c->stream->pid, key);
    if (bus_api_kv_set(key, text, len, settings_get()->recovery_window_ms, record_saved, NULL) == SBR_OK)
        core_metrics.recovery_sessions_saved++;
    free(text);
}
