/* Removals of a user from a server, remembered in the shared state so that
 * a kick or a ban holds: a connect or a refresh whose token was issued at
 * or before the removal (iat <= removal time, to the second) and still
 * lists the server does not get it back.  The map "auth:removed:<user>"
 * has one field per server, each living ttl_seconds + leeway_seconds (the
 * longest life of a token issued before it), so it empties itself; a later
 * PUT of the membership deletes its field at once. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static void removal_key(char *key, size_t len, const char *user_id)
{
    snprintf(key, len, REMOVAL_KEY_PREFIX "%s", user_id);
}

int removal_store(struct auth *auth, const char *user_id, const char *server_id, sbr_state_done_fn done,
                  void *userdata)
{
    char key[sizeof(REMOVAL_KEY_PREFIX) + TOKEN_ID_MAX];
    char when[24];
    removal_key(key, sizeof(key), user_id);
    snprintf(when, sizeof(when), "%" PRIu64, auth->api->now_ms());
    uint64_t ttl_ms = (uint64_t)(auth->settings.ttl_seconds + auth->settings.leeway_seconds) * 1000u;
    return auth->api->map_set(key, server_id, when, ttl_ms, done, userdata);
}

int removal_clear(struct auth *auth, const char *user_id, const char *server_id, sbr_state_done_fn done,
                  void *userdata)
{
    char key[sizeof(REMOVAL_KEY_PREFIX) + TOKEN_ID_MAX];
    removal_key(key, sizeof(key), user_id);
    return auth->api->map_del(key, server_id, done, userdata);
}

/* Remove id from list[0..*n) in place (the string is freed). */
static void removal_list_drop(char **list, size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(list[i], id) == 0) {
            free(list[i]);
            memmove(&list[i], &list[i + 1], (*n - i - 1) * sizeof(*list));
            (*n)--;
            return;
        }
    }
}

void removal_drop(struct token_claims *claims, const char *server_id)
{
    removal_list_drop(claims->servers, &claims->n_servers, server_id);
    removal_list_drop(claims->moderates, &claims->n_moderates, server_id);
}

void removal_filter(const sbr_state_reply *reply, struct token_claims *claims)
{
    /* A token without iat could have been issued at any time: before. */
    uint64_t issued_ms = claims->iat > 0 ? (uint64_t)claims->iat * 1000u : 0;
    for (size_t i = 0; i < reply->n; i++) {
        char *end = NULL;
        unsigned long long removed_ms = strtoull(reply->values[i], &end, 10);
        if (end == reply->values[i] || *end != '\0')
            continue;
        /* iat has whole seconds: a token of the removal's own second counts as before it. */
        if (issued_ms <= removed_ms)
            removal_drop(claims, reply->fields[i]);
    }
}
