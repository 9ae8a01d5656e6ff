/* Base64 (RFC 4648), standard and URL-safe alphabets (layer 0, private):
 * WebSocket keys, Engine.IO binary over polling, ids.  Calls nothing. */
#ifndef SBR_UTIL_BASE64_H
#define SBR_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Length of the encoding of n bytes (padded), without the NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode n bytes into out (BASE64_ENCODED_LEN(n) + 1 bytes, NUL-terminated).
 * url = 1: URL-safe alphabet without padding.  Returns the text length. */
size_t base64_encode(const uint8_t *in, size_t n, char *out, int url);
/* Decode standard base64 (padding required) into out (at least n / 4 * 3
 * bytes).  Returns the decoded length, or -1 if the text is not base64. */
long base64_decode(const char *in, size_t n, uint8_t *out);

#endif
