/* PUT /api/realtime/channels/{channel_id}: register or update a channel. */
#include "channels.h"
#include "channel_record.h"
#include "chat_event.h"
#include "chat_http.h"

#include <stdlib.h>
#include <string.h>

struct channels_put {
    struct channels *ch;
    sbr_http_request *req;
    char channel_id[CHAT_ID_MAX + 1];
    int has_server;
    int has_slow_mode;
    struct channel_record record;
};

static void channels_put_stored(const sbr_state_reply *reply, void *userdata)
{
    struct channels_put *put = userdata;
    const sbr_api *api = put->ch->api;
    if (reply->status != SBR_OK) {
        chat_http_error(api, put->req, 503, "unavailable");
        free(put);
        return;
    }
    channel_cache_put(&put->ch->cache, put->channel_id, &put->record, api->bus_state() == SBR_BUS_DOWN);
    chat_http_reply(api, put->req, 200,
                    json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "channel_id", put->channel_id, "server_id",
                              put->record.server_id, "slow_mode", (json_int_t)put->record.slow_mode),
                    NULL);
    free(put);
}

static void channels_put_store(struct channels_put *put)
{
    const sbr_api *api = put->ch->api;
    char *key = channel_record_key(put->channel_id);
    char *value = channel_record_encode(&put->record);
    int rc = key && value ? api->kv_set(key, value, strlen(value), 0, channels_put_stored, put) : SBR_ERR_NOMEM;
    free(key);
    free(value);
    if (rc != SBR_OK) {
        chat_http_error(api, put->req, 503, "unavailable");
        free(put);
    }
}

/* An update that leaves out server_id or slow_mode keeps the stored ones. */
static void channels_put_merge(int found, const struct channel_record *stored, void *userdata)
{
    struct channels_put *put = userdata;
    const sbr_api *api = put->ch->api;
    if (found < 0) {
        chat_http_error(api, put->req, 503, "unavailable");
        free(put);
        return;
    }
    int exists = found == 1;
    if (!exists && !put->has_server) {
        chat_http_invalid(api, put->req, "server_id is required for a new channel");
        free(put);
        return;
    }
    if (!put->has_server)
        strcpy(put->record.server_id, stored->server_id);
    if (!put->has_slow_mode)
        put->record.slow_mode = exists ? stored->slow_mode : 0;
    channels_put_store(put);
}

void channels_http_put(sbr_http_request *req, void *userdata)
{
    struct channels *ch = userdata;
    const sbr_api *api = ch->api;
    json_t *body = chat_http_begin(api, req);
    if (!body)
        return;
    struct channels_put *put = calloc(1, sizeof *put);
    const char *channel_id = api->http_param(req, "channel_id");
    const char *problem = NULL;
    if (!put)
        problem = "out of memory";
    else if (!channel_id || !chat_id_valid(channel_id, CHAT_ID_CHANNEL))
        problem = "channel_id must be 1 to 128 characters of [A-Za-z0-9_.-]";
    if (!problem) {
        put->ch = ch;
        put->req = req;
        strcpy(put->channel_id, channel_id);
        if (json_object_get(body, "server_id")) {
            put->has_server = 1;
            if (chat_id_read(body, "server_id", CHAT_ID_SERVER_OR_USER, put->record.server_id) != 0)
                problem = "server_id must be a string of 1 to 128 bytes without control characters";
        }
    }
    json_t *settings = json_object_get(body, "settings");
    if (!problem && settings && !json_is_object(settings) && !json_is_null(settings))
        problem = "settings must be an object";
    json_t *slow = json_object_get(settings, "slow_mode");
    if (!problem && slow) {
        put->has_slow_mode = 1;
        if (!json_is_integer(slow) || json_integer_value(slow) < 0 ||
            json_integer_value(slow) > CHANNEL_SLOW_MODE_MAX)
            problem = "settings.slow_mode must be an integer from 0 to 21600";
        else
            put->record.slow_mode = json_integer_value(slow);
    }
    json_decref(body);
    if (problem) {
        chat_http_invalid(api, req, problem);
        free(put);
        return;
    }
    if (put->has_server && put->has_slow_mode) {
        channels_put_store(put);
        return;
    }
    if (channel_lookup(api, &ch->cache, put->channel_id, channels_put_merge, put) != SBR_OK) {
        chat_http_error(api, req, 503, "unavailable");
        free(put);
    }
}

/* --- the backend came back --------------------------------------------------- */

struct channels_restore {
    struct channels *ch;
    char channel_id[CHAT_ID_MAX + 1];
    struct channel_record record;
};

static void channels_restore_write(const struct channels *ch, const char *channel_id,
                                   const struct channel_record *record)
{
    char *key = channel_record_key(channel_id);
    char *value = channel_record_encode(record);
    if (key && value)
        ch->api->kv_set(key, value, strlen(value), 0, chat_state_ignore, NULL);
    free(key);
    free(value);
}

static void channels_restore_checked(const sbr_state_reply *reply, void *userdata)
{
    struct channels_restore *restore = userdata;
    if (reply->status == SBR_OK && !reply->found)
        channels_restore_write(restore->ch, restore->channel_id, &restore->record);
    free(restore);
}

static void channels_restore_one(struct channel_cache_entry *entry, void *arg)
{
    struct channels *ch = arg;
    if (entry->dirty) {
        /* Changed while the backend was away: this worker has the newest. */
        channels_restore_write(ch, entry->channel_id, &entry->record);
        entry->dirty = 0;
        return;
    }
    /* Otherwise only fill what the backend lost (it may have restarted
     * empty); another worker may hold a newer record than this copy. */
    struct channels_restore *restore = malloc(sizeof *restore);
    char *key = channel_record_key(entry->channel_id);
    int rc = SBR_ERR_NOMEM;
    if (restore && key) {
        restore->ch = ch;
        strcpy(restore->channel_id, entry->channel_id);
        restore->record = entry->record;
        rc = ch->api->kv_get(key, channels_restore_checked, restore);
    }
    free(key);
    if (rc != SBR_OK)
        free(restore);
}

void channels_republish(struct channels *ch)
{
    channel_cache_foreach(&ch->cache, channels_restore_one, ch);
}
