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

/**
 * KEYS: stream. ARGV: group, consumer, min idle ms, start, count. Claims entries idle past
 * min idle (XAUTOCLAIM, which counts a delivery) and returns {next start, entries, counts}.
 */
export const CLAIM =
  new Script(`local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local counts = {}
for i, e in ipairs(r[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  counts[i] = p[1] and p[1][4] or 1
end
return {r[1], r[2], counts}`)

/** Idle time that makes an entry claimable by anyone at once (ten years: Redis caps it at now). */
const LONG_IDLE = 315_360_000_000

/**
 * KEYS: stream. ARGV: group, consumer, entry id, attempt, delivery count to set. If the
 * entry is still this consumer's at this attempt, make it claimable at once (nack/release).
 */
export const GIVE_BACK = new Script(`local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ${LONG_IDLE}, 'RETRYCOUNT', ARGV[5], 'JUSTID')
return 1`)

/**
 * KEYS: stream, dead-letter stream. ARGV: group, entry id, attempt, '1' to write the dead
 * letter, then its id, timestamp, metadata JSON, content type, data. If the entry is still
 * at this attempt: append the dead letter and ack the entry, in one step.
 */
export const DEAD_LETTER = new Script(`local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or tonumber(p[1][4]) ~= tonumber(ARGV[3]) then return 0 end
if ARGV[4] == '1' then
  ${NOW.replaceAll('\n', '\n  ')}
  redis.call('XADD', KEYS[2], '0-*', 'i', ARGV[5], 't', ARGV[6], 's', now, 'm', ARGV[7], 'c', ARGV[8], 'd', ARGV[9])
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1`)

/** KEYS: stream. ARGV: group, consumer. Remove the consumer from the group if it holds nothing. */
export const LEAVE = new Script(`local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #p == 0 then redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return #p`)
