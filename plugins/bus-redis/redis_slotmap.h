/* A Redis Cluster's slot map as the gateway uses it: its masters and the
 * master owning each slot, read from a CLUSTER SLOTS answer; and the
 * redirections a node answers a command with (MOVED, ASK, TRYAGAIN).
 * Replicas are not used: every command and channel goes to a master.
 * Pure: no I/O. */
#ifndef SBR_BUS_REDIS_SLOTMAP_H
#define SBR_BUS_REDIS_SLOTMAP_H

#include "redis_slot.h"

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_SLOTMAP_MAX_NODES 128
#define REDIS_SLOT_NONE 0xffffu
#define REDIS_HOST_MAX 256

struct redis_slotmap_node {
    char host[REDIS_HOST_MAX];
    int port;
};

struct redis_slotmap {
    size_t n_nodes;
    struct redis_slotmap_node nodes[REDIS_SLOTMAP_MAX_NODES];
    uint16_t owner[REDIS_SLOTS]; /* index in nodes, or REDIS_SLOT_NONE */
};

/* Fill map from a CLUSTER SLOTS answer; `asked` is the host of the node
 * that answered, taken for a master announced with an empty host.  Returns
 * 0, or -1 with a reason in err for an answer of another shape, a range
 * out of bounds or more than REDIS_SLOTMAP_MAX_NODES masters.  Slots no
 * range covers (or whose master's address is unknown, "?") are REDIS_SLOT_NONE. */
int redis_slotmap_parse(const redisReply *reply, const char *asked, struct redis_slotmap *map, char *err,
                        size_t errlen);
/* The index of host:port among map's masters, or -1. */
int redis_slotmap_find(const struct redis_slotmap *map, const char *host, int port);
/* How many slots have no master. */
size_t redis_slotmap_uncovered(const struct redis_slotmap *map);

enum redis_redirect_kind {
    REDIS_REDIRECT_NONE,    /* another error, or a redirection that does not parse */
    REDIS_REDIRECT_MOVED,   /* the slot has a new master: ask it from now on */
    REDIS_REDIRECT_ASK,     /* the slot is migrating: ask the target this once, after ASKING */
    REDIS_REDIRECT_TRYAGAIN,/* keys of a multi-key command are split by a migration: retry soon */
    REDIS_REDIRECT_UNSERVED /* "CLUSTERDOWN Hash slot not served": that node has no owner for the slot
                             * (it left the cluster, say): ask the map again */
};

struct redis_redirect {
    enum redis_redirect_kind kind;
    unsigned slot;
    char host[REDIS_HOST_MAX]; /* empty: the host of the node that answered */
    int port;
};

/* Parse an error answer's text: "MOVED 3999 127.0.0.1:6381", "ASK 3999
 * [::1]:6381", "TRYAGAIN ...", "CLUSTERDOWN Hash slot not served" (any
 * other CLUSTERDOWN is not one: the cluster is down).  Returns the kind
 * (also in out->kind). */
enum redis_redirect_kind redis_redirect_parse(const char *error, struct redis_redirect *out);

#endif
