/* The slot map and redirections (see redis_slotmap.h). */
#include "redis_slotmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int redis_slotmap_fail(char *err, size_t errlen, const char *reason)
{
    snprintf(err, errlen, "CLUSTER SLOTS: %s", reason);
    return -1;
}

int redis_slotmap_find(const struct redis_slotmap *map, const char *host, int port)
{
    for (size_t i = 0; i < map->n_nodes; i++)
        if (map->nodes[i].port == port && strcmp(map->nodes[i].host, host) == 0)
            return (int)i;
    return -1;
}

/* The master of a range: [host, port, id, ...]; its index in map (added
 * if new), REDIS_SLOT_NONE for an unknown address, or -1. */
static long redis_slotmap_master(const redisReply *m, const char *asked, struct redis_slotmap *map)
{
    if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 || m->element[0]->type != REDIS_REPLY_STRING ||
        m->element[1]->type != REDIS_REPLY_INTEGER || m->element[1]->integer < 1 ||
        m->element[1]->integer > 65535)
        return -1;
    const char *host = m->element[0]->str;
    if (strcmp(host, "?") == 0)
        return REDIS_SLOT_NONE;
    if (!host[0])
        host = asked;
    if (strlen(host) >= REDIS_HOST_MAX)
        return -1;
    int port = (int)m->element[1]->integer;
    int found = redis_slotmap_find(map, host, port);
    if (found >= 0)
        return found;
    if (map->n_nodes == REDIS_SLOTMAP_MAX_NODES)
        return -1;
    snprintf(map->nodes[map->n_nodes].host, REDIS_HOST_MAX, "%s", host);
    map->nodes[map->n_nodes].port = port;
    return (long)map->n_nodes++;
}

int redis_slotmap_parse(const redisReply *reply, const char *asked, struct redis_slotmap *map, char *err,
                        size_t errlen)
{
    map->n_nodes = 0;
    for (unsigned s = 0; s < REDIS_SLOTS; s++)
        map->owner[s] = REDIS_SLOT_NONE;
    if (reply->type != REDIS_REPLY_ARRAY)
        return redis_slotmap_fail(err, errlen, "not an array (is cluster mode enabled on that node?)");
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *r = reply->element[i];
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_INTEGER ||
            r->element[1]->type != REDIS_REPLY_INTEGER)
            return redis_slotmap_fail(err, errlen, "a range of another shape");
        long long first = r->element[0]->integer, last = r->element[1]->integer;
        if (first < 0 || last < first || last >= REDIS_SLOTS)
            return redis_slotmap_fail(err, errlen, "a range out of bounds");
        long master = redis_slotmap_master(r->element[2], asked, map);
        if (master < 0)
            return redis_slotmap_fail(err, errlen, "a master of another shape, or too many masters");
        for (long long s = first; s <= last; s++)
            map->owner[s] = (uint16_t)master;
    }
    return 0;
}

size_t redis_slotmap_uncovered(const struct redis_slotmap *map)
{
    size_t n = 0;
    for (unsigned s = 0; s < REDIS_SLOTS; s++)
        n += map->owner[s] == REDIS_SLOT_NONE;
    return n;
}

/* "host:port" or "[v6]:port" (host may be empty) into out. */
static int redis_redirect_endpoint(const char *text, struct redis_redirect *out)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return -1;
    const char *host = text;
    size_t hlen = (size_t)(colon - text);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen >= REDIS_HOST_MAX)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != ' ') || port < 1 || port > 65535)
        return -1;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = (int)port;
    return 0;
}

enum redis_redirect_kind redis_redirect_parse(const char *error, struct redis_redirect *out)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(error, "TRYAGAIN", 8) == 0 && (error[8] == ' ' || !error[8]))
        return out->kind = REDIS_REDIRECT_TRYAGAIN;
    if (strcmp(error, "CLUSTERDOWN Hash slot not served") == 0)
        return out->kind = REDIS_REDIRECT_UNSERVED;
    enum redis_redirect_kind kind;
    if (strncmp(error, "MOVED ", 6) == 0)
        kind = REDIS_REDIRECT_MOVED;
    else if (strncmp(error, "ASK ", 4) == 0)
        kind = REDIS_REDIRECT_ASK;
    else
        return REDIS_REDIRECT_NONE;
    const char *at = error + (kind == REDIS_REDIRECT_MOVED ? 6 : 4);
    char *end;
    long slot = strtol(at, &end, 10);
    if (end == at || *end != ' ' || slot < 0 || slot >= (long)REDIS_SLOTS ||
        redis_redirect_endpoint(end + 1, out) != 0) {
        memset(out, 0, sizeof(*out));
        return REDIS_REDIRECT_NONE;
    }
    out->slot = (unsigned)slot;
    return out->kind = kind;
}
