#include "issue_body.h"

#include <string.h>

#include <jansson.h>

#include "claims.h"

static enum issue_body_error issue_body_read(const json_t *obj, struct token_claims *out)
{
    const json_t *user = json_object_get(obj, "user_id");
    if (!user)
        return ISSUE_BODY_INVALID;
    out->sub = claims_id(user, 0);
    if (!out->sub)
        return ISSUE_BODY_INVALID;
    const json_t *sid = json_object_get(obj, "session_id");
    if (sid && !json_is_null(sid)) {
        out->sid = claims_id(sid, 0);
        if (!out->sid)
            return ISSUE_BODY_INVALID;
    }
    int present;
    if (claims_id_list(obj, "servers", 0, &out->servers, &out->n_servers, &present) != 0)
        return ISSUE_BODY_INVALID;
    if (claims_id_list(obj, "moderates", 0, &out->moderates, &out->n_moderates, &out->has_moderates) != 0)
        return ISSUE_BODY_INVALID;
    return ISSUE_BODY_OK;
}

enum issue_body_error issue_body_parse(const char *body, size_t len, struct token_claims *out)
{
    memset(out, 0, sizeof(*out));
    if (!body || len == 0)
        return ISSUE_BODY_INVALID;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return ISSUE_BODY_INVALID_JSON;
    }
    enum issue_body_error err = issue_body_read(obj, out);
    json_decref(obj);
    if (err != ISSUE_BODY_OK)
        token_claims_free(out);
    return err;
}
