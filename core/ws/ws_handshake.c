/* RFC 6455 4.2.1: what a server must check before answering 101. */
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include "util/base64.h"
#include "ws/ws_handshake.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1])
{
    char buf[128];
    size_t klen = strlen(client_key);
    if (klen > sizeof(buf) - sizeof(ws_guid))
        klen = sizeof(buf) - sizeof(ws_guid);
    memcpy(buf, client_key, klen);
    memcpy(buf + klen, ws_guid, sizeof(ws_guid) - 1);
    uint8_t digest[20];
    ws_sha1((const uint8_t *)buf, klen + sizeof(ws_guid) - 1, digest);
    base64_encode(digest, sizeof(digest), out, 0);
}

/* 1 if the comma-separated header value contains token (case-insensitive). */
static int header_has_token(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == tlen && strncasecmp(p, token, tlen) == 0)
            return 1;
        p = end;
    }
    return 0;
}

int ws_handshake_is_upgrade(struct evhttp_request *req)
{
    const char *up = evhttp_find_header(evhttp_request_get_input_headers(req), "Upgrade");
    return up && header_has_token(up, "websocket");
}

const char *ws_handshake_check(struct evhttp_request *req, const char **why)
{
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        *why = "WebSocket handshake must be a GET";
        return NULL;
    }
    if (!ws_handshake_is_upgrade(req)) {
        *why = "missing Upgrade: websocket";
        return NULL;
    }
    const char *conn = evhttp_find_header(h, "Connection");
    if (!conn || !header_has_token(conn, "upgrade")) {
        *why = "missing Connection: Upgrade";
        return NULL;
    }
    const char *version = evhttp_find_header(h, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13") != 0) {
        *why = "unsupported Sec-WebSocket-Version";
        return NULL;
    }
    const char *key = evhttp_find_header(h, "Sec-WebSocket-Key");
    uint8_t raw[24];
    if (!key || strlen(key) != 24 || base64_decode(key, 24, raw) != 16) {
        *why = "bad Sec-WebSocket-Key";
        return NULL;
    }
    return key;
}
