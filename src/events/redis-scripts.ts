import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

type Arg = string | Buffer | Uint8Array | number

/** A Lua script run by its SHA, sent whole only when the server does not know it yet. */
export class Script {
  readonly #lua: string
  readonly #sha: string

  constructor(lua: string) {
    this.#lua = lua
    this.#sha = createHash('sha1').update(lua).digest('hex')
  }

  /** Run with `keys` and `args`; replies come as Buffers when `buffers` is set. */
  async run(redis: Redis, keys: string[], args: Arg[], buffers = false): Promise<unknown> {
    const rest = [keys.length, ...keys, ...args.map(asArg)]
    const call = (command: string, head: string) =>
      buffers ? redis.callBuffer(command, head, ...rest) : redis.call(command, head, ...rest)
    try {
      return await call('EVALSHA', this.#sha)
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
      return await call('EVAL', this.#lua)
    }
  }
}

function asArg(value: Arg): string | Buffer | number {
  return value instanceof Uint8Array && !Buffer.isBuffer(value)
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    : (value as string | Buffer | number)
}

// Entries get explicit ids `0-<n>` (`0-*` asks Redis for the next n): the sequence number
// is the id, so an offset by sequence is an id, and the server's clock is stored with each
// entry (`s`) for offsets by time.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/** KEYS: stream. ARGV: id, timestamp, metadata JSON, content type, data. Returns the entry id. */
export const ADD = new Script(`${NOW}
return redis.call('XADD', KEYS[1], '0-*', 'i', ARGV[1], 't', ARGV[2], 's', now, 'm', ARGV[3], 'c', ARGV[4], 'd', ARGV[5])`)

// Every script that changes a group first checks that the group is still the one this
// consumer joined: its epoch (a random token written with the group in the hash
// `<stream>:groups`) must match. A group Redis lost (and that was made again, by this
// consumer or another) has another epoch or none, and entry ids start again at 0-1, so
// without the check an old ack could settle a new event with the same id. -1 says "lost".
const EPOCH = `if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return -1 end`

/**
 * KEYS: stream, groups hash. ARGV: group, epoch, consumer, min idle ms, start, count. Claims
 * entries idle past min idle (XAUTOCLAIM, which counts a delivery) and returns {next start,
 * entries, counts}; -1 when the group was lost.
 */
export const CLAIM = new Script(`${EPOCH}
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[3], ARGV[4], ARGV[5], 'COUNT', ARGV[6])
local counts = {}
for i, e in ipairs(r[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  counts[i] = p[1] and p[1][4] or 1
end
return {r[1], r[2], counts}`)

/** KEYS: stream, groups hash. ARGV: group, epoch, entry ids. XACK; -1 when the group was lost. */
export const ACK = new Script(`${EPOCH}
local n = 0
for i = 3, #ARGV, 1000 do
  n = n + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return n`)

// The value of field f of an entry's fields, or ''.
const FIELD = `local function field(fields, f)
  for i = 1, #fields, 2 do if fields[i] == f then return fields[i + 1] end end
  return ''
end`

/**
 * KEYS: stream, groups hash. ARGV: group, start id, new epoch. Create the group at the start
 * (and the stream) unless it exists; returns the group's epoch (the new one when it had none).
 */
export const JOIN =
  new Script(`local made = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM')
if type(made) == 'table' and made.err then
  if string.sub(made.err, 1, 9) ~= 'BUSYGROUP' then return made end
  local epoch = redis.call('HGET', KEYS[2], ARGV[1])
  if epoch then return epoch end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return ARGV[3]`)

/**
 * KEYS: stream, groups hash. ARGV: group, epoch. What the group has: {pending, last
 * delivered id, the event id stored there, the stream's last id}; -1 when it was lost.
 */
export const CHECK = new Script(`${EPOCH}
${FIELD}
local groups = redis.pcall('XINFO', 'GROUPS', KEYS[1])
if groups.err then return -1 end
for _, g in ipairs(groups) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  if f['name'] == ARGV[1] then
    local last = f['last-delivered-id']
    local at = redis.call('XRANGE', KEYS[1], last, last)
    local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
    return {f['pending'], last, at[1] and field(at[1][2], 'i') or '', top[1] and top[1][1] or '0-0'}
  end
end
return -1`)

/**
 * KEYS: stream, groups hash. ARGV: group, lost epoch, new epoch, known sequence, the event id
 * stored there. After a loss: join the group if another member made it again already;
 * otherwise make it again after the known sequence when the stream still holds that event,
 * or from the stream's start when the stream itself is new. Returns {epoch, sequence the
 * group starts after (-1 when joined)}, or {epoch, -2} when nothing was lost.
 */
export const RECOVER = new Script(`${FIELD}
local epoch = redis.call('HGET', KEYS[2], ARGV[1])
local exists = not redis.pcall('XPENDING', KEYS[1], ARGV[1]).err
if exists and epoch == ARGV[2] then return {epoch, -2} end
if exists then
  if not epoch then
    epoch = ARGV[3]
    redis.call('HSET', KEYS[2], ARGV[1], epoch)
  end
  return {epoch, -1}
end
local after = 0
local known = tonumber(ARGV[4])
if known > 0 then
  local at = redis.call('XRANGE', KEYS[1], '0-' .. known, '0-' .. known)
  if at[1] and field(at[1][2], 'i') == ARGV[5] then after = known end
end
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0-' .. after, 'MKSTREAM')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return {ARGV[3], after}`)

/** Idle time that makes an entry claimable by anyone at once (ten years: Redis caps it at now). */
const LONG_IDLE = 315_360_000_000

/**
 * KEYS: stream, groups hash. ARGV: group, epoch, consumer, entry id, attempt, delivery count
 * to set. If the entry is still this consumer's at this attempt, make it claimable at once
 * (nack/release). -1 when the group was lost.
 */
export const GIVE_BACK = new Script(`${EPOCH}
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[4], ARGV[4], 1)
if #p == 0 or p[1][2] ~= ARGV[3] or tonumber(p[1][4]) ~= tonumber(ARGV[5]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[4], 'IDLE', ${LONG_IDLE}, 'RETRYCOUNT', ARGV[6], 'JUSTID')
return 1`)

/**
 * KEYS: stream, groups hash, dead-letter stream. ARGV: group, epoch, entry id, attempt, '1'
 * to write the dead letter, then its id, timestamp, metadata JSON, content type, data. If
 * the entry is still at this attempt: append the dead letter and ack the entry, in one step.
 * -1 when the group was lost.
 */
export const DEAD_LETTER = new Script(`${EPOCH}
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then return 0 end
if ARGV[5] == '1' then
  ${NOW.replaceAll('\n', '\n  ')}
  redis.call('XADD', KEYS[3], '0-*', 'i', ARGV[6], 't', ARGV[7], 's', now, 'm', ARGV[8], 'c', ARGV[9], 'd', ARGV[10])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return 1`)

/** KEYS: stream. ARGV: group, consumer. Remove the consumer from the group if it holds nothing. */
export const LEAVE = new Script(`local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return #p`)
