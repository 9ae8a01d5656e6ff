/* A subscriber connection to Redis, read by hand: libevent carries the
 * bytes and hiredis's reply parser (redisReader) cuts them into replies.
 * hiredis 0.14's asynchronous pub/sub knows SUBSCRIBE and PSUBSCRIBE
 * only: the replies of SSUBSCRIBE (sharded pub/sub, Redis 7), or a server
 * that unsubscribes a client by itself (a cluster slot moving away), would
 * reach no callback or abort.  Here every reply goes to one function,
 * except the answers to PINGs sent with redis_sublink_ping, matched in
 * order (a PING answers "PONG", or ["pong", ""] in subscriber mode).
 * Nothing is called back after redis_sublink_close. */
#ifndef SBR_BUS_REDIS_SUBLINK_H
#define SBR_BUS_REDIS_SUBLINK_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stddef.h>

struct redis_sublink;

/* A reply that is no answer to our PINGs (freed after the call). */
typedef void (*redis_sublink_reply_fn)(struct redis_sublink *link, redisReply *reply, void *arg);
/* The connection is gone (refused, closed, unreadable): reason for the log.
 * The link must still be closed with redis_sublink_close (from here is fine). */
typedef void (*redis_sublink_lost_fn)(struct redis_sublink *link, const char *reason, void *arg);
/* The answer to a PING of ours came. */
typedef void (*redis_sublink_pong_fn)(struct redis_sublink *link, void *arg);

/* Connect to address:port (an IP literal), or to unix_path when not NULL.
 * NULL when out of memory or the socket cannot be made. */
struct redis_sublink *redis_sublink_open(struct event_base *base, const char *address, int port,
                                         const char *unix_path, redis_sublink_reply_fn on_reply,
                                         redis_sublink_lost_fn on_lost, void *arg);
/* Queue a command (sent once connected).  0, or -1 when out of memory. */
int redis_sublink_send(struct redis_sublink *link, int argc, const char **argv, const size_t *lens);
/* Queue a PING whose answer calls fn.  0, or -1 when out of memory. */
int redis_sublink_ping(struct redis_sublink *link, redis_sublink_pong_fn fn, void *arg);
/* Close and free (safe inside its own callbacks: freed once they return).
 * The pending PINGs are forgotten, their callbacks never called: their
 * args must own nothing. */
void redis_sublink_close(struct redis_sublink *link);

#endif
