/* The Lua scripts of the room log (redis_rooms.c).  Keys of the room log
 * share the hash tag {rlog}: the counter, the floor, the logs (a list per
 * room) and the origins' marks sit in one slot, as one script must reach
 * them all.
 *
 * Offsets: the counter starts (first use, or after Redis lost it) at the
 * server's clock in microseconds, and never answers at or below the hint,
 * the highest offset the calling worker has seen, so a lost or lagging
 * counter does not hand out offsets that go back. */
#include "bus_redis.h"

#define REDIS_ROOMS_NEXT_OFFSET                                                   \
    "if redis.replicate_commands then redis.replicate_commands() end\n"          \
    "local function next_offset(counter, hint)\n"                                 \
    "  local seq = redis.call('INCR', counter)\n"                                 \
    "  if seq <= hint or seq < 1000000000000000 then\n"                           \
    "    local t = redis.call('TIME')\n"                                          \
    "    local base = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"                \
    "    if base < hint then base = hint end\n"                                   \
    "    if base < seq then base = seq end\n"                                     \
    "    seq = base + 1\n"                                                        \
    "    redis.call('SET', counter, string.format('%.0f', seq))\n"                \
    "  end\n"                                                                     \
    "  return seq\n"                                                              \
    "end\n"

static const char *const redis_rooms_scripts[] = {
    /* KEYS: counter, the room's log, the origin's mark.  ARGV: channel,
     * envelope head, origin seq (decimal), flags digit, except, packet,
     * maxlen, keep_ms, hint.  A message sent again after a lost link (its
     * origin seq at or below the mark) is not sequenced twice: 0.  The log
     * is a list, newest first, of "<16-digit offset><except>\n<packet>":
     * measured, a room with one event costs Redis about 240 bytes as a list
     * and 4.7 KB as a stream (a stream preallocates its first node). */
    [REDIS_SCRIPT_ROOM_PUBLISH - REDIS_SCRIPT_ROOM_PUBLISH] =
        REDIS_ROOMS_NEXT_OFFSET
        "local oseq = tonumber(ARGV[3])\n"
        "if oseq <= tonumber(redis.call('GET', KEYS[3]) or '0') then return 0 end\n"
        "redis.call('SET', KEYS[3], ARGV[3], 'PX', 3600000)\n"
        "local seq = next_offset(KEYS[1], tonumber(ARGV[9]))\n"
        "local off = string.format('%016.0f', seq)\n"
        "redis.call('LPUSH', KEYS[2], off .. ARGV[5] .. '\\n' .. ARGV[6])\n"
        "redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[7]) - 1)\n"
        "redis.call('PEXPIRE', KEYS[2], ARGV[8])\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2] .. '#' .. off .. ARGV[4] .. ARGV[5] .. '\\n' .. ARGV[6])\n"
        "return seq\n",
    /* KEYS: counter, floor, the logs.  ARGV: after, maxlen, max total.
     * {complete, last, {log index, offset, except, packet, ...}}: the
     * entries above `after`, log by log, oldest first; complete = 0 (and no
     * entries) when a log at its cap holds nothing at or below `after` (it
     * may have dropped some), when `after` is below the floor, or past max
     * total.  Each log is read newest first, 64 entries at a time, down to
     * the first entry at or below `after`. */
    [REDIS_SCRIPT_ROOM_REPLAY - REDIS_SCRIPT_ROOM_PUBLISH] =
        "local after, maxlen, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
        "local last = redis.call('GET', KEYS[1]) or '0'\n"
        "local complete = 1\n"
        "if after < tonumber(redis.call('GET', KEYS[2]) or '0') then complete = 0 end\n"
        "local out, total = {}, 0\n"
        "for i = 3, #KEYS do\n"
        "  if complete == 0 then break end\n"
        "  local len = redis.call('LLEN', KEYS[i])\n"
        "  local found, at, reached = {}, 0, false\n"
        "  while at < len and not reached and total + #found <= cap do\n"
        "    for _, e in ipairs(redis.call('LRANGE', KEYS[i], at, at + 63)) do\n"
        "      if tonumber(string.sub(e, 1, 16)) <= after then reached = true break end\n"
        "      found[#found + 1] = e\n"
        "    end\n"
        "    at = at + 64\n"
        "  end\n"
        "  total = total + #found\n"
        "  if total > cap or (not reached and len >= maxlen) then complete = 0 end\n"
        "  for k = #found, 1, -1 do\n"
        "    local e = found[k]\n"
        "    local nl = string.find(e, '\\n', 17, true)\n"
        "    if nl then\n"
        "      out[#out + 1] = tostring(i - 3)\n"
        "      out[#out + 1] = string.sub(e, 1, 16)\n"
        "      out[#out + 1] = string.sub(e, 17, nl - 1)\n"
        "      out[#out + 1] = string.sub(e, nl + 1)\n"
        "    end\n"
        "  end\n"
        "end\n"
        "if complete == 0 then out = {} end\n"
        "return {complete, last, out}\n",
    /* KEYS: counter.  ARGV: this worker's flush channel, the marker.  The
     * marker comes back on the subscriber link after everything published
     * before, with the counter's value then. */
    [REDIS_SCRIPT_ROOM_FLUSH - REDIS_SCRIPT_ROOM_PUBLISH] =
        "local seq = redis.call('GET', KEYS[1]) or '0'\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2] .. ':' .. seq)\n"
        "return 1\n",
    /* KEYS: counter, floor.  ARGV: keep_ms, hint.  A fresh offset becomes
     * the floor: what this worker published unsequenced went out before.
     * The counter jumps to the server's clock (in microseconds) first: after
     * a failover the new master's counter may lag behind offsets the old
     * one handed out, and the counter never runs ahead of the clock unless
     * a million room events a second are sequenced for long. */
    [REDIS_SCRIPT_ROOM_FLOOR - REDIS_SCRIPT_ROOM_PUBLISH] =
        "if redis.replicate_commands then redis.replicate_commands() end\n"
        "local seq = redis.call('INCR', KEYS[1])\n"
        "local t = redis.call('TIME')\n"
        "local base = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
        "if base < tonumber(ARGV[2]) then base = tonumber(ARGV[2]) end\n"
        "if base < seq then base = seq end\n"
        "seq = base + 1\n"
        "redis.call('SET', KEYS[1], string.format('%.0f', seq))\n"
        "redis.call('SET', KEYS[2], string.format('%.0f', seq), 'PX', ARGV[1])\n"
        "return seq\n",
};

const char *redis_rooms_script_source(enum redis_script script)
{
    return redis_rooms_scripts[script - REDIS_SCRIPT_ROOM_PUBLISH];
}
