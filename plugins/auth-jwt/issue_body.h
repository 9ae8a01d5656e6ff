/* The JSON body of a server-to-server token request (private to auth-jwt):
 * {"user_id", "servers", "session_id", "moderates"}. */
#ifndef AUTH_JWT_ISSUE_BODY_H
#define AUTH_JWT_ISSUE_BODY_H

#include <stddef.h>

#include "token.h"

enum issue_body_error {
    ISSUE_BODY_OK = 0,
    ISSUE_BODY_INVALID_JSON, /* not JSON, or not an object */
    ISSUE_BODY_INVALID       /* empty, or a field missing or of the wrong type */
};

/* Read the identity into out (sub, sid, servers, moderates; free with
 * token_claims_free).  Ids are strings or integers; session_id, servers
 * and moderates may be absent or null. */
enum issue_body_error issue_body_parse(const char *body, size_t len, struct token_claims *out);

#endif
