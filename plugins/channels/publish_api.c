/* POST /api/realtime/publish {"room", "event", "data"}: any event to any
 * room, on every worker. */
#include "channels.h"
#include "chat_event.h"
#include "chat_http.h"

#include <stdlib.h>
#include <string.h>

/* The room-name limit of api->room_join. */
#define PUBLISH_NAME_MAX 255

/* Events the Socket.IO client reserves for itself: a server emitting them
 * would confuse every client. */
static const char *const publish_reserved[] = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
};

static int publish_name_valid(json_t *name)
{
    if (!json_is_string(name))
        return 0;
    size_t len = json_string_length(name);
    return len > 0 && len <= PUBLISH_NAME_MAX && strlen(json_string_value(name)) == len;
}

void channels_http_publish(sbr_http_request *req, void *userdata)
{
    struct channels *ch = userdata;
    const sbr_api *api = ch->api;
    json_t *body = chat_http_begin(api, req);
    if (!body)
        return;
    json_t *room = json_object_get(body, "room");
    json_t *event = json_object_get(body, "event");
    json_t *data = json_object_get(body, "data");
    const char *problem = NULL;
    if (!publish_name_valid(room))
        problem = "room must be a string of 1 to 255 bytes";
    else if (!publish_name_valid(event))
        problem = "event must be a string of 1 to 255 bytes";
    for (size_t i = 0; !problem && i < sizeof publish_reserved / sizeof *publish_reserved; i++)
        if (strcmp(json_string_value(event), publish_reserved[i]) == 0)
            problem = "event is a name reserved by Socket.IO";
    if (problem) {
        json_decref(body);
        chat_http_invalid(api, req, problem);
        return;
    }
    char *text = data ? chat_json_dump(json_incref(data)) : NULL;
    int rc = data && !text ? SBR_ERR_NOMEM
                           : api->emit_room(json_string_value(room), json_string_value(event), text, 0, 0);
    free(text);
    json_decref(body);
    if (rc == SBR_OK) {
        api->metric_add(ch->self, "superbot_published_total", NULL, 1);
        chat_http_reply(api, req, 200, json_pack("{s:b}", "ok", 1), NULL);
    } else if (rc == SBR_ERR_INVALID)
        chat_http_invalid(api, req, "room or event refused");
    else if (rc == SBR_ERR_LIMIT)
        chat_http_error(api, req, 413, "payload_too_large");
    else
        chat_http_error(api, req, 503, "unavailable");
}
