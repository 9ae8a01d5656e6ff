/* A verified token checked against the shared state before its claims are
 * believed: the session denylist (tokens with a sid) and the user's
 * removals (tokens listing servers), both asked at once.  Used at connect
 * and by refresh_token; a recovered connection passes through the connect
 * hook, so its memberships are checked here too.
 *
 * The bus failing must not lock every user out: a lookup that fails counts
 * as "nothing found" (fail-open) and is said once per outage.  A revoked
 * session's live sockets were closed by the broadcast, a removed member's
 * left their rooms, and the tokens expire within ttl_seconds anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

struct token_check *check_new(struct auth *auth, sbr_conn_id conn, struct token_claims *claims)
{
    struct token_check *check = calloc(1, sizeof(*check));
    if (!check)
        return NULL;
    check->auth = auth;
    check->conn = conn;
    check->claims = *claims;
    memset(claims, 0, sizeof(*claims));
    check->next = auth->checks;
    if (auth->checks)
        auth->checks->prev = check;
    auth->checks = check;
    return check;
}

void check_free(struct token_check *check)
{
    struct auth *auth = check->auth;
    if (check->prev)
        check->prev->next = check->next;
    else
        auth->checks = check->next;
    if (check->next)
        check->next->prev = check->prev;
    token_claims_free(&check->claims);
    free(check);
}

void check_free_all(struct auth *auth)
{
    while (auth->checks)
        check_free(auth->checks);
}

void check_drop_server(struct auth *auth, const char *user_id, const char *server_id)
{
    for (struct token_check *c = auth->checks; c; c = c->next)
        if (c->claims.sub && strcmp(c->claims.sub, user_id) == 0)
            removal_drop(&c->claims, server_id);
}

/* Say once per outage that a lookup failed, and once that it works again. */
static void check_outage(struct auth *auth, int *failing, int failed, const char *what)
{
    if (failed && !*failing)
        auth->api->log(auth->self, SBR_LOG_WARN, "%s unavailable: admitting tokens unchecked", what);
    else if (!failed && *failing)
        auth->api->log(auth->self, SBR_LOG_INFO, "%s available again", what);
    *failing = failed;
}

static void check_answered(struct token_check *check)
{
    if (--check->pending == 0)
        check->done(check);
}

static void check_revocation_read(const sbr_state_reply *reply, void *userdata)
{
    struct token_check *check = userdata;
    check_outage(check->auth, &check->auth->bus_failing, reply->status != SBR_OK, "session denylist");
    check->revoked = reply->status == SBR_OK && reply->found;
    check_answered(check);
}

static void check_removals_read(const sbr_state_reply *reply, void *userdata)
{
    struct token_check *check = userdata;
    check_outage(check->auth, &check->auth->removals_failing, reply->status != SBR_OK, "membership removals");
    if (reply->status == SBR_OK)
        removal_filter(reply, &check->claims);
    check_answered(check);
}

int check_start(struct token_check *check)
{
    struct auth *auth = check->auth;
    const sbr_api *api = auth->api;
    char key[sizeof(REVOKE_KEY_PREFIX) + sizeof(REMOVAL_KEY_PREFIX) + TOKEN_ID_MAX];
    /* Counted before asking: a provider answers later, never inside the call. */
    check->pending = 1;
    if (check->claims.sid) {
        snprintf(key, sizeof(key), REVOKE_KEY_PREFIX "%s", check->claims.sid);
        check->pending++;
        if (api->kv_get(key, check_revocation_read, check) != SBR_OK) {
            check->pending--;
            check_outage(auth, &auth->bus_failing, 1, "session denylist");
        }
    }
    if (check->claims.n_servers) {
        snprintf(key, sizeof(key), REMOVAL_KEY_PREFIX "%s", check->claims.sub);
        check->pending++;
        if (api->map_get_all(key, check_removals_read, check) != SBR_OK) {
            check->pending--;
            check_outage(auth, &auth->removals_failing, 1, "membership removals");
        }
    }
    return --check->pending > 0;
}
