/* The channels each local connection joined, with the server each belongs
 * to (private to the channels plugin), so that a connection that leaves a
 * server (SBR_EVENT_IDENTITY: a kick, a ban, a refreshed token without it)
 * leaves that server's channels too.  Kept from join_channel to
 * leave_channel or the disconnect. */
#ifndef SBR_CHANNEL_JOINS_H
#define SBR_CHANNEL_JOINS_H

#include <stddef.h>
#include <superbot-realtime/plugin.h>

#define CHANNEL_JOINS_BUCKETS 4096

struct channel_join {
    char *channel_id;
    char *server_id;
};

struct channel_joins_conn {
    struct channel_joins_conn *next; /* hash chain */
    sbr_conn_id conn;
    struct channel_join *joins;
    size_t n, cap;
};

struct channel_joins {
    struct channel_joins_conn *buckets[CHANNEL_JOINS_BUCKETS];
};

/* Remember that conn joined channel_id of server_id; 0, or -1 on no memory. */
int channel_joins_add(struct channel_joins *j, sbr_conn_id conn, const char *channel_id, const char *server_id);
/* Forget one channel of conn (left). */
void channel_joins_remove(struct channel_joins *j, sbr_conn_id conn, const char *channel_id);
/* Forget every channel of conn (gone). */
void channel_joins_forget(struct channel_joins *j, sbr_conn_id conn);
/* Call fn with each channel of conn that belongs to server_id, and forget
 * it; returns how many. */
size_t channel_joins_take_server(struct channel_joins *j, sbr_conn_id conn, const char *server_id,
                                 void (*fn)(sbr_conn_id conn, const char *channel_id, void *arg), void *arg);
void channel_joins_clear(struct channel_joins *j);

#endif
