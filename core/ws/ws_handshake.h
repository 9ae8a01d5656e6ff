/* The WebSocket opening handshake (RFC 6455 section 4), server side (private). */
#ifndef SBR_WS_HANDSHAKE_H
#define SBR_WS_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>
#include <event2/http.h>

/* Length of Sec-WebSocket-Accept: base64 of a 20-byte SHA-1. */
#define WS_ACCEPT_LEN 28

/* SHA-1 (FIPS 180-4) of n bytes. */
void ws_sha1(const uint8_t *data, size_t n, uint8_t digest[20]);

/* Sec-WebSocket-Accept for a client key; out gets WS_ACCEPT_LEN + 1 bytes. */
void ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1]);

/* 1 if the request asks for a WebSocket upgrade at all (Upgrade: websocket). */
int ws_handshake_is_upgrade(struct evhttp_request *req);
/* Check a GET upgrade request (Connection: upgrade, version 13, a key of 16
 * bytes).  Returns the key, or NULL after setting *why. */
const char *ws_handshake_check(struct evhttp_request *req, const char **why);

#endif
