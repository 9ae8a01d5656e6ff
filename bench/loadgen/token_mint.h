/* Realtime tokens minted by the load tool itself (HS256, the claims of
 * SPEC.md), so that connect measures the gateway's verification and not a
 * token endpoint. */
#ifndef LOADGEN_TOKEN_MINT_H
#define LOADGEN_TOKEN_MINT_H

#include <stddef.h>

/* Write a NUL-terminated token for user `sub`, member of `server_id` (none
 * when NULL), valid for ttl_seconds, into out.  Returns its length, or 0 if
 * it does not fit. */
size_t token_mint(const char *secret, const char *sub, const char *server_id, long ttl_seconds,
                  char *out, size_t out_size);

#endif
