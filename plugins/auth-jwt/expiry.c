/* Token expiry: with expire_connections, a socket whose token expired
 * (plus leeway) without a refresh ends with disconnect_reason
 * "token_expired".  Every connection of the worker sits in one heap by
 * expiry (whatever the setting, so that a reload turning it on covers the
 * sockets already open), and one timer is armed for the earliest. */
#include <stdlib.h>

#include "auth.h"

#define EXPIRED_METRIC "superbot_auth_expired_total"

static void expiry_fire(void *userdata);

static int64_t expiry_leeway_ms(const struct auth *auth)
{
    return auth->settings.leeway_seconds * 1000;
}

/* Arm the timer for the earliest expiry, or stop it. */
static void expiry_arm(struct auth *auth)
{
    const struct expiry_entry *first = expiry_heap_first(&auth->expiry);
    uint64_t due = first && auth->settings.expire_connections ? (uint64_t)(first->deadline + expiry_leeway_ms(auth))
                                                              : 0;
    if (due && due == auth->expiry_armed_ms)
        return;
    if (auth->expiry_timer)
        auth->api->timer_stop(auth->self, auth->expiry_timer);
    auth->expiry_timer = 0;
    auth->expiry_armed_ms = 0;
    if (!due)
        return;
    uint64_t now = auth->api->now_ms();
    auth->expiry_timer = auth->api->timer_start(auth->self, due > now ? due - now : 0, 0, expiry_fire, auth);
    if (auth->expiry_timer)
        auth->expiry_armed_ms = due;
}

/* End conn if its identity's token has expired (the heap follows the
 * identity, but the identity is the truth). */
static void expiry_end(struct auth *auth, sbr_conn_id conn, uint64_t now)
{
    const sbr_identity *who = auth->api->conn_identity(conn);
    if (!who || who->expires_at <= 0 || (uint64_t)(who->expires_at * 1000 + expiry_leeway_ms(auth)) > now)
        return;
    if (auth->api->conn_end(conn, "token_expired") == SBR_OK)
        auth->api->metric_add(auth->self, EXPIRED_METRIC, NULL, 1);
}

static void expiry_fire(void *userdata)
{
    struct auth *auth = userdata;
    auth->expiry_timer = 0;
    auth->expiry_armed_ms = 0;
    uint64_t now = auth->api->now_ms();
    const struct expiry_entry *first;
    while (auth->settings.expire_connections && (first = expiry_heap_first(&auth->expiry)) &&
           (uint64_t)(first->deadline + expiry_leeway_ms(auth)) <= now) {
        sbr_conn_id conn = first->conn;
        expiry_heap_remove(&auth->expiry, conn);
        expiry_end(auth, conn, now);
    }
    expiry_arm(auth);
}

void expiry_track(struct auth *auth, sbr_conn_id conn, int64_t expires_at)
{
    if (expires_at <= 0) {
        expiry_forget(auth, conn);
        return;
    }
    int64_t deadline = expires_at * 1000;
    int64_t known;
    if (expiry_heap_get(&auth->expiry, conn, &known) && known == deadline)
        return;
    if (expiry_heap_set(&auth->expiry, conn, deadline) != 0) {
        auth->api->log(auth->self, SBR_LOG_ERROR, "out of memory: connection %llu will outlive its token",
                       (unsigned long long)conn);
        return;
    }
    expiry_arm(auth);
}

void expiry_forget(struct auth *auth, sbr_conn_id conn)
{
    int64_t known;
    if (!expiry_heap_get(&auth->expiry, conn, &known))
        return;
    expiry_heap_remove(&auth->expiry, conn);
    expiry_arm(auth);
}

void expiry_configure(struct auth *auth)
{
    /* Force a fresh timer: the leeway may have changed. */
    auth->expiry_armed_ms = 0;
    expiry_arm(auth);
}

void expiry_free(struct auth *auth)
{
    expiry_heap_free(&auth->expiry);
    auth->expiry_timer = 0;
    auth->expiry_armed_ms = 0;
}
