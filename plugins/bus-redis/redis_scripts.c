/* The Lua scripts bus-redis runs.  Each touches only the keys it is given
 * (KEYS), all in one slot on a cluster: a map's two keys share a hash tag
 * (redis_state_map_name), and a recent stream lives in its channel's slot
 * (redis_publish_stream).  The maps' scripts read the server's clock, so
 * workers with skewed clocks agree, and purge expired fields before
 * anything else, so each call costs O(log n + expired) plus what it
 * returns. */
#include "bus_redis.h"

/* Shared head of the map scripts: KEYS[1] the hash, KEYS[2] the deadlines.
 * HDEL in chunks keeps unpack() within Lua's stack. */
#define REDIS_MAP_PURGE                                                          \
    "if redis.replicate_commands then redis.replicate_commands() end\n"         \
    "local t = redis.call('TIME')\n"                                             \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"    \
    "local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)\n"           \
    "for i = 1, #dead, 1000 do\n"                                                \
    "  redis.call('HDEL', KEYS[1], unpack(dead, i, math.min(i + 999, #dead)))\n" \
    "end\n"                                                                      \
    "if #dead > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end\n"

static const char *const redis_scripts[REDIS_SCRIPT_COUNT_] = {
    /* The value and its time left, for the mirror. */
    [REDIS_SCRIPT_KV_GET] =
        "return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}\n",
    [REDIS_SCRIPT_RESERVE] =
        "local ttl = tonumber(ARGV[1])\n"
        "local ok\n"
        "if ttl > 0 then ok = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ttl)\n"
        "else ok = redis.call('SET', KEYS[1], '1', 'NX') end\n"
        "if ok then return {1, 0} end\n"
        "return {0, redis.call('PTTL', KEYS[1])}\n",
    /* ARGV: field, value, ttl_ms (0: no expiry).  The keys expire with
     * their last field, so an abandoned map leaves nothing behind. */
    [REDIS_SCRIPT_MAP_SET] =
        REDIS_MAP_PURGE
        "local ttl = tonumber(ARGV[3])\n"
        "local new = 1 - redis.call('HEXISTS', KEYS[1], ARGV[1])\n"
        "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
        "if ttl > 0 then redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])\n"
        "else redis.call('ZADD', KEYS[2], '+inf', ARGV[1]) end\n"
        "local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')\n"
        "local until_ms = tonumber(last[2])\n"
        "if until_ms == math.huge then\n"
        "  redis.call('PERSIST', KEYS[1]); redis.call('PERSIST', KEYS[2])\n"
        "else\n"
        "  redis.call('PEXPIREAT', KEYS[1], until_ms); redis.call('PEXPIREAT', KEYS[2], until_ms)\n"
        "end\n"
        "return {new, redis.call('HLEN', KEYS[1])}\n",
    [REDIS_SCRIPT_MAP_DEL] =
        REDIS_MAP_PURGE
        "local gone = redis.call('HDEL', KEYS[1], ARGV[1])\n"
        "redis.call('ZREM', KEYS[2], ARGV[1])\n"
        "return {gone, redis.call('HLEN', KEYS[1])}\n",
    [REDIS_SCRIPT_MAP_GET_ALL] =
        REDIS_MAP_PURGE
        "return redis.call('HGETALL', KEYS[1])\n",
    [REDIS_SCRIPT_MAP_COUNT] =
        REDIS_MAP_PURGE
        "return redis.call('HLEN', KEYS[1])\n",
    /* ARGV: delta, ttl_ms.  {1, value, ms left (-1: none)}, or {0, '0', 0}
     * when the key holds no integer or the sum overflows.  The value is
     * read back as text: Lua numbers are doubles, exact only up to 2^53.
     * The expiry is set only on a key that has none (PEXPIRE NX), so the
     * first incr of a window sets it and the next ones keep it. */
    [REDIS_SCRIPT_INCR] =
        "local v = redis.pcall('INCRBY', KEYS[1], ARGV[1])\n"
        "if type(v) == 'table' and v.err then return {0, '0', 0} end\n"
        "local ttl = tonumber(ARGV[2])\n"
        "local left = redis.call('PTTL', KEYS[1])\n"
        "if ttl > 0 and left == -1 then redis.call('PEXPIRE', KEYS[1], ttl); left = ttl end\n"
        "return {1, redis.call('GET', KEYS[1]), left}\n",
    /* A reservation taken in-process while Redis was away, written back:
     * never shortens one held in Redis.  ARGV[1]: its time left (0: none). */
    [REDIS_SCRIPT_RESERVE_EXTEND] =
        "local want = tonumber(ARGV[1])\n"
        "local left = redis.call('PTTL', KEYS[1])\n"
        "if left == -1 then return 0 end\n"
        "if want == 0 then redis.call('SET', KEYS[1], '1') return 1 end\n"
        "if left < want then redis.call('SET', KEYS[1], '1', 'PX', want) return 1 end\n"
        "return 0\n",
    /* PUBLISH (or SPUBLISH: ARGV[4]), and keep the message ARGV[3] ms in
     * the recent stream KEYS[1] for the workers not subscribed yet
     * (redis_publish.c).  On a cluster the stream lives in the channel's
     * slot.  The stream is best effort: a failure there still publishes. */
    [REDIS_SCRIPT_PUBLISH_RECENT] =
        "if redis.replicate_commands then redis.replicate_commands() end\n"
        "local n = redis.call(ARGV[4], ARGV[1], ARGV[2])\n"
        "local t = redis.call('TIME')\n"
        "local keep = tonumber(ARGV[3])\n"
        "local oldest = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - keep\n"
        "redis.pcall('XADD', KEYS[1], 'MINID', '~', string.format('%.0f', oldest), '*', 'c', ARGV[1], 'm', ARGV[2])\n"
        "redis.pcall('PEXPIRE', KEYS[1], keep)\n"
        "return n\n",
};

const char *redis_script_source(enum redis_script script)
{
    return script >= REDIS_SCRIPT_ROOM_PUBLISH ? redis_rooms_script_source(script) : redis_scripts[script];
}
