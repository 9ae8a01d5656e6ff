/* GET /api/realtime/presence/{server_id}: the online members of a server. */
#include "presence.h"
#include "chat_http.h"

#include <stdlib.h>
#include <string.h>

struct presence_get {
    struct presence *p;
    sbr_http_request *req;
    char server_id[CHAT_ID_MAX + 1];
};

static void presence_http_read(const sbr_state_reply *reply, void *userdata)
{
    struct presence_get *get = userdata;
    const sbr_api *api = get->p->api;
    if (reply->status != SBR_OK)
        chat_http_error(api, get->req, 503, "unavailable");
    else
        chat_http_reply(api, get->req, 200,
                        json_pack("{s:s, s:o}", "server_id", get->server_id, "members", presence_members(reply)),
                        NULL);
    free(get);
}

void presence_http_get(sbr_http_request *req, void *userdata)
{
    struct presence *p = userdata;
    const sbr_api *api = p->api;
    if (!api->http_check_api_key(req)) {
        chat_http_error(api, req, 401, "unauthorized");
        return;
    }
    const char *server_id = api->http_param(req, "server_id");
    if (!server_id || !chat_id_valid(server_id, CHAT_ID_SERVER_OR_USER)) {
        chat_http_invalid(api, req, "server_id must be 1 to 128 bytes without control characters");
        return;
    }
    struct presence_get *get = malloc(sizeof *get);
    char *key = chat_format("presence:server:%s", server_id);
    int rc = SBR_ERR_NOMEM;
    if (get && key) {
        get->p = p;
        get->req = req;
        strcpy(get->server_id, server_id);
        rc = api->map_get_all(key, presence_http_read, get);
    }
    free(key);
    if (rc != SBR_OK) {
        free(get);
        chat_http_error(api, req, 503, "unavailable");
    }
}
