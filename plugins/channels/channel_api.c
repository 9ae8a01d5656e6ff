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
    if (reply->status != SBR_OK)
        chat_http_error(api, put->req, 503, "unavailable");
    else
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
static void channels_put_merge(const sbr_state_reply *reply, void *userdata)
{
    struct channels_put *put = userdata;
    const sbr_api *api = put->ch->api;
    struct channel_record stored;
    if (reply->status != SBR_OK) {
        chat_http_error(api, put->req, 503, "unavailable");
        free(put);
        return;
    }
    int exists = reply->found && channel_record_parse(reply->value, reply->value_len, &stored) == 0;
    if (!exists && !put->has_server) {
        chat_http_invalid(api, put->req, "server_id is required for a new channel");
        free(put);
        return;
    }
    if (!put->has_server)
        strcpy(put->record.server_id, stored.server_id);
    if (!put->has_slow_mode)
        put->record.slow_mode = exists ? stored.slow_mode : 0;
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
    else if (!channel_id || !chat_id_valid(channel_id))
        problem = "channel_id must be 1 to 128 characters of [A-Za-z0-9_.-]";
    if (!problem) {
        put->ch = ch;
        put->req = req;
        strcpy(put->channel_id, channel_id);
        if (json_object_get(body, "server_id")) {
            put->has_server = 1;
            if (chat_id_read(body, "server_id", put->record.server_id) != 0)
                problem = "server_id must be a string of 1 to 128 characters of [A-Za-z0-9_.-]";
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
    char *key = channel_record_key(put->channel_id);
    int rc = key ? api->kv_get(key, channels_put_merge, put) : SBR_ERR_NOMEM;
    free(key);
    if (rc != SBR_OK) {
        chat_http_error(api, req, 503, "unavailable");
        free(put);
    }
}
