/* The Lua scripts of the room log (redis_rooms.c).  Keys of the room log
 * share the hash tag {rlog}: the counter, the floor, the logs and the
 * origins' marks sit in one slot, as one script must reach them all.
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
     * origin seq at or below the mark) is not sequenced twice: 0. */
    [REDIS_SCRIPT_ROOM_PUBLISH - REDIS_SCRIPT_ROOM_PUBLISH] =
        REDIS_ROOMS_NEXT_OFFSET
        "local oseq = tonumber(ARGV[3])\n"
        "if oseq <= tonumber(redis.call('GET', KEYS[3]) or '0') then return 0 end\n"
        "redis.call('SET', KEYS[3], ARGV[3], 'PX', 3600000)\n"
        "local seq = next_offset(KEYS[1], tonumber(ARGV[9]))\n"
        "local ok = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], string.format('%.0f-0', seq),\n"
        "                       'x', ARGV[5], 'd', ARGV[6])\n"
        "if type(ok) == 'table' and ok.err then\n"
        "  local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]\n"
        "  seq = next_offset(KEYS[1], tonumber(string.match(top[1], '^(%d+)')))\n"
        "  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], string.format('%.0f-0', seq), 'x', ARGV[5], 'd', ARGV[6])\n"
        "end\n"
        "redis.call('PEXPIRE', KEYS[2], ARGV[8])\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2] .. '#' .. string.format('%016.0f', seq) .. ARGV[4] .. ARGV[5] ..\n"
        "           '\\n' .. ARGV[6])\n"
        "return seq\n",
    /* KEYS: counter, floor, the logs.  ARGV: after, maxlen, max total.
     * {complete, last, {log index, offset, except, packet, ...}}: the
     * entries above `after`, log by log; complete = 0 (and no entries) when
     * a log at its cap starts above `after` (it may have dropped some),
     * when `after` is below the floor, or past max total. */
    [REDIS_SCRIPT_ROOM_REPLAY - REDIS_SCRIPT_ROOM_PUBLISH] =
        "local after = tonumber(ARGV[1])\n"
        "local maxlen = tonumber(ARGV[2])\n"
        "local cap = tonumber(ARGV[3])\n"
        "local last = redis.call('GET', KEYS[1]) or '0'\n"
        "local complete = 1\n"
        "if after < tonumber(redis.call('GET', KEYS[2]) or '0') then complete = 0 end\n"
        "local out, total = {}, 0\n"
        "local from = string.format('%.0f-0', after + 1)\n"
        "for i = 3, #KEYS do\n"
        "  if complete == 0 then break end\n"
        "  if redis.call('XLEN', KEYS[i]) >= maxlen then\n"
        "    local first = redis.call('XRANGE', KEYS[i], '-', '+', 'COUNT', 1)[1]\n"
        "    if first and tonumber(string.match(first[1], '^(%d+)')) > after then complete = 0 end\n"
        "  end\n"
        "  local entries = redis.call('XRANGE', KEYS[i], from, '+', 'COUNT', cap + 1 - total)\n"
        "  total = total + #entries\n"
        "  if total > cap then complete = 0 end\n"
        "  for _, e in ipairs(entries) do\n"
        "    local x, d = '', ''\n"
        "    for k = 1, #e[2], 2 do\n"
        "      if e[2][k] == 'x' then x = e[2][k + 1] elseif e[2][k] == 'd' then d = e[2][k + 1] end\n"
        "    end\n"
        "    out[#out + 1] = tostring(i - 3)\n"
        "    out[#out + 1] = string.match(e[1], '^(%d+)')\n"
        "    out[#out + 1] = x\n"
        "    out[#out + 1] = d\n"
        "  end\n"
        "end\n"
        "if complete == 0 then out = {} end\n"
        "return {complete, last, out}\n",
    /* KEYS: counter, floor.  ARGV: keep_ms, hint.  A fresh offset becomes
     * the floor: what this worker published unsequenced went out before. */
    /* KEYS: counter.  ARGV: this worker's own channel, the marker.  The
     * marker comes back on the subscriber link after everything published
     * before, with the counter's value then. */
    [REDIS_SCRIPT_ROOM_FLUSH - REDIS_SCRIPT_ROOM_PUBLISH] =
        "local seq = redis.call('GET', KEYS[1]) or '0'\n"
        "redis.call('PUBLISH', ARGV[1], ARGV[2] .. ':' .. seq)\n"
        "return 1\n",
    [REDIS_SCRIPT_ROOM_FLOOR - REDIS_SCRIPT_ROOM_PUBLISH] =
        REDIS_ROOMS_NEXT_OFFSET
        "local seq = next_offset(KEYS[1], tonumber(ARGV[2]))\n"
        "redis.call('SET', KEYS[2], string.format('%.0f', seq), 'PX', ARGV[1])\n"
        "return seq\n",
};

const char *redis_rooms_script_source(enum redis_script script)
{
    return redis_rooms_scripts[script - REDIS_SCRIPT_ROOM_PUBLISH];
}
