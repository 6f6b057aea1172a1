// Lua scripts of the Redis store. Each table has, besides one string key per record:
//   an index:   sorted set of its record keys, all with score 0, so ZRANGEBYLEX walks them
//               in byte order (code point order for UTF-8) and a prefix is a range;
//   expiries:   sorted set of keys written with a TTL, scored by when they expire, so the
//               index entries of records Redis expired can be dropped a few at a time.
// A namespace's tables are a set of `db:table` members. Scripts run atomically, so an
// index never disagrees with the records in a way a reader can see: a record counts only
// if its string key exists (Redis expires it natively), and index entries whose record is
// gone are removed as they are met.

/** KEYS: record, index, expiries, tables. ARGV: key, entry, px (0 = none), expiresAt, table member, now, record prefix. */
export const WRITE = `
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('SADD', KEYS[4], ARGV[5])
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[6], 'LIMIT', 0, 16)
for _, k in ipairs(stale) do
  if redis.call('EXISTS', ARGV[7] .. k) == 0 then
    redis.call('ZREM', KEYS[2], k)
    redis.call('ZREM', KEYS[3], k)
  end
end
return 1
`

/** KEYS: record, index, expiries, tables. ARGV: key, table member. */
export const DELETE = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SREM', KEYS[4], ARGV[2]) end
return 1
`

// The walk shared by SCAN and TABLES: live keys of one index, filtered, in order.
const WALK = `
local function walk(index, recordPrefix, prefix, suffix, offset, limit, desc, values)
  local out, stale = {}, {}
  local lo, hi = '-', '+'
  if prefix ~= '' then lo = '[' .. prefix; hi = '(' .. prefix .. '\\255' end
  local skipped, taken, pos = 0, 0, 0
  while true do
    local batch
    if desc then
      batch = redis.call('ZREVRANGEBYLEX', index, hi, lo, 'LIMIT', pos, 256)
    else
      batch = redis.call('ZRANGEBYLEX', index, lo, hi, 'LIMIT', pos, 256)
    end
    if #batch == 0 then break end
    pos = pos + #batch
    for _, k in ipairs(batch) do
      if suffix == '' or (#k >= #suffix and string.sub(k, -#suffix) == suffix) then
        local v
        if values then v = redis.call('GET', recordPrefix .. k) else v = redis.call('EXISTS', recordPrefix .. k) == 1 end
        if not v then
          stale[#stale + 1] = k
        elseif skipped < offset then
          skipped = skipped + 1
        else
          out[#out + 1] = k
          if values then out[#out + 1] = v end
          taken = taken + 1
          if limit > 0 and taken >= limit then return out, stale end
        end
      end
    end
  end
  return out, stale
end
`

/** KEYS: index, expiries. ARGV: record prefix, prefix, suffix, offset, limit, desc (1/0), values (1/0). */
export const SCAN = `${WALK}
local out, stale = walk(KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1', ARGV[7] == '1')
for _, k in ipairs(stale) do
  redis.call('ZREM', KEYS[1], k)
  redis.call('ZREM', KEYS[2], k)
end
return out
`

/**
 * KEYS: tables set. ARGV: key root (`<prefix>`), encoded namespace.
 * Returns the members with at least one live record, forgetting the others.
 */
export const TABLES = `${WALK}
local out = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local scope = ARGV[2] .. ':' .. member
  local index = ARGV[1] .. 'i:' .. scope
  local found = walk(index, ARGV[1] .. 'd:' .. scope .. ':', '', '', 0, 1, false, false)
  if #found > 0 then
    out[#out + 1] = member
  else
    redis.call('DEL', index, ARGV[1] .. 'x:' .. scope)
    redis.call('SREM', KEYS[1], member)
  end
end
return out
`
