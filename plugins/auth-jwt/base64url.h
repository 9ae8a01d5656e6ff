/* Strict base64url decoding (RFC 4648 section 5, no padding), as JWT
 * segments use it (private to auth-jwt). */
#ifndef AUTH_JWT_BASE64URL_H
#define AUTH_JWT_BASE64URL_H

#include <stddef.h>

/* Decode len characters of src into a malloc'd buffer (NUL-terminated for
 * convenience) and set *out_len.  NULL on a character outside the
 * alphabet, padding, an impossible length, non-zero trailing bits (so each
 * value has exactly one spelling) or no memory. */
unsigned char *base64url_decode(const char *src, size_t len, size_t *out_len);

#endif
