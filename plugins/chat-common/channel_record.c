/* Encoding of the channel registry record. */
#include "channel_record.h"

#include <string.h>

char *channel_record_key(const char *channel_id)
{
    return chat_format("channels:%s", channel_id);
}

int channel_record_parse(const char *value, size_t len, struct channel_record *out)
{
    json_t *doc = value ? json_loadb(value, len, 0, NULL) : NULL;
    if (!doc)
        return -1;
    int rc = -1;
    json_t *slow = json_object_get(doc, "slow_mode");
    if (chat_id_read(doc, "server_id", CHAT_ID_SERVER_OR_USER, out->server_id) == 0 && json_is_integer(slow) &&
        json_integer_value(slow) >= 0 && json_integer_value(slow) <= CHANNEL_SLOW_MODE_MAX) {
        out->slow_mode = json_integer_value(slow);
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

char *channel_record_encode(const struct channel_record *record)
{
    return chat_json_dump(json_pack("{s:s, s:I}", "server_id", record->server_id, "slow_mode",
                                    (json_int_t)record->slow_mode));
}
