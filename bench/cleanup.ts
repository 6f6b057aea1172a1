/**
 * What the bench leaves on the shared servers, checked and removed by the orchestrator
 * (a fixture that dies cannot clean up after itself): JetStream streams, and Redis keys
 * under a pattern. Every call is bounded in time.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { Redis } from 'ioredis'

const LIMIT_MS = 10_000

/** Reject with `what` when `promise` has not settled within LIMIT_MS. */
async function bounded<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${LIMIT_MS} ms`)), LIMIT_MS)
  })
  try {
    return await Promise.race([promise, limit])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * For each JetStream stream named: how many messages its consumers have not acknowledged
 * (pending + ack pending, summed; waiting up to 5 s for acks still on the way), then delete
 * it. A stream that does not exist counts 0. Resolves with the unacknowledged count per stream.
 */
export async function settleAndDeleteStreams(
  address: string,
  names: string[],
): Promise<Record<string, number>> {
  const nc = await bounded('connecting to NATS', connect({ servers: address, timeout: 5000 }))
  const out: Record<string, number> = {}
  try {
    const jsm = await bounded('JetStream', jetstreamManager(nc))
    for (const name of names) {
      const unacked = async () => {
        let sum = 0
        for await (const info of jsm.consumers.list(name)) sum += info.num_pending + info.num_ack_pending
        return sum
      }
      try {
        let left = await bounded(`listing consumers of ${name}`, unacked())
        const deadline = Date.now() + 5000
        while (left > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          left = await bounded(`listing consumers of ${name}`, unacked())
        }
        out[name] = left
        await bounded(`deleting stream ${name}`, jsm.streams.delete(name))
      } catch (error) {
        if ((error as Error).name === 'StreamNotFoundError' || /stream not found/i.test(String(error))) {
          out[name] = 0
          continue
        }
        throw error
      }
    }
  } finally {
    await nc.close()
  }
  return out
}

/**
 * Delete every Redis key matching `pattern` (SCAN, so a busy server is not blocked);
 * before that, the entries of stream keys still pending in a consumer group, summed.
 * Resolves with `{ keys: deleted, pending }`.
 */
export async function settleAndDeleteKeys(
  address: string,
  pattern: string,
): Promise<{ keys: number; pending: number }> {
  const redis = new Redis(address, { maxRetriesPerRequest: 1, lazyConnect: true })
  redis.on('error', () => {})
  try {
    await bounded('connecting to Redis', redis.connect())
    let keys = 0
    let pending = 0
    let cursor = '0'
    do {
      const [next, found] = await bounded('SCAN', redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000))
      cursor = next
      for (const key of found) {
        if ((await redis.type(key)) === 'stream') {
          const groups = (await redis.xinfo('GROUPS', key)) as unknown[][]
          for (const group of groups) {
            const at = group.indexOf('pending')
            pending += at >= 0 ? Number(group[at + 1]) : 0
          }
        }
      }
      if (found.length > 0) keys += await bounded('DEL', redis.del(...found))
    } while (cursor !== '0')
    return { keys, pending }
  } finally {
    redis.disconnect()
  }
}
