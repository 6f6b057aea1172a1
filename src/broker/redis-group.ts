import type { Redis } from 'ioredis'
import type { Logger } from '../logger/logger.js'
import { BrokerDelivery } from './delivery.js'
import { decodeEnvelope, encodeEnvelope } from './envelope.js'
import type { LocalSubscription } from './subscription.js'

/**
 * Publish in one step: drop expired groups, push the message onto the list of every live
 * group of the topic (trimmed, with an expiry), then PUBLISH it to plain subscribers.
 * KEYS[1] groups zset; ARGV: channel, payload, list key prefix, list ttl ms, max list length.
 * The list keys are built in the script, so this needs a single Redis, not a cluster.
 */
export const PUBLISH_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, group in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[3] .. group
  redis.call('LPUSH', key, ARGV[2])
  redis.call('LTRIM', key, 0, tonumber(ARGV[5]) - 1)
  redis.call('PEXPIRE', key, ARGV[4])
end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`

/**
 * Mark a group live until now + ARGV[2] ms (server time); the set itself expires once its
 * last group would. KEYS[1] groups zset; ARGV: group, ttl ms.
 */
export const JOIN_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`

const STOPPED = Symbol('stopped')

export interface GroupConsumerOptions {
  sub: LocalSubscription
  /** The list the group's messages wait in. */
  list: string
  /** A connection of its own: BRPOP blocks it. */
  blocking: Redis
  /** For CLIENT UNBLOCK and for giving messages back. */
  commands: Redis
  /** Longest single BRPOP wait, seconds. */
  blockSeconds: number
  logger: Logger
}

/**
 * One member of a queue group: pops the group's list (BRPOP) while its inbox has room.
 * Each message is popped by exactly one member. A nack (requeue), or a message popped as the
 * member stops, is pushed back to the tail so the next pop takes it. Stopping unblocks the
 * pending BRPOP (CLIENT UNBLOCK) instead of dropping the connection, so a popped message
 * is never lost in flight.
 */
export class GroupConsumer {
  readonly #o: GroupConsumerOptions
  readonly done: Promise<void>
  #clientId: number | undefined
  #needId = true
  #stop: () => void = () => {}
  readonly #stopped = new Promise<typeof STOPPED>((resolve) => {
    this.#stop = () => resolve(STOPPED)
  })

  constructor(options: GroupConsumerOptions) {
    this.#o = options
    // A reconnect makes a new server-side client: ask its id again before blocking.
    options.blocking.on('ready', () => {
      this.#needId = true
    })
    this.done = this.#loop()
  }

  /** Stop popping; resolves when the loop has ended and the connection is closed. */
  async stop(): Promise<void> {
    const { commands, blocking } = this.#o
    const id = this.#clientId
    // Unblocking ends a pending BRPOP cleanly, so a message it already popped is delivered
    // (and given back, the inbox being stopped) rather than lost with the connection.
    if (id !== undefined && commands.status === 'ready' && blocking.status === 'ready') {
      await bounded(commands.client('UNBLOCK', id), 1000).catch(() => {})
    }
    this.#stop()
    await this.done
    blocking.disconnect()
  }

  async #loop(): Promise<void> {
    const { sub, list, blocking, blockSeconds, logger } = this.#o
    while (sub.active) {
      await sub.inbox.whenRoom()
      if (!sub.active) break
      let popped: [Buffer, Buffer] | null | typeof STOPPED
      try {
        if (this.#needId) {
          this.#needId = false
          this.#clientId = (await blocking.client('ID')) as number
        }
        const pop = blocking.brpopBuffer(list, blockSeconds)
        // A connection that is down may never answer (ioredis keeps the command queued), so
        // stopping does not wait for it; a message it pops later is still handed over.
        popped = await Promise.race([pop, this.#stopped])
        if (popped === STOPPED) {
          pop.then((late) => late && this.#deliver(late[1])).catch(() => {})
          break
        }
      } catch (error) {
        if (!sub.active) break
        logger.warn('redis broker: reading a queue group failed; retrying', { list, error })
        await new Promise((r) => setTimeout(r, 250))
        continue
      }
      if (popped) this.#deliver(popped[1])
    }
  }

  #deliver(payload: Buffer): void {
    const { sub, list, commands, logger } = this.#o
    let message: ReturnType<typeof decodeEnvelope>
    try {
      message = decodeEnvelope(payload)
    } catch (error) {
      logger.warn('redis broker: dropped a queue message that is not an envelope', { list, error })
      return
    }
    sub.inbox.push(
      new BrokerDelivery({
        topic: sub.topic,
        queue: sub.queue,
        headers: message.headers,
        body: message.body,
        settler: {
          ack: () => {},
          nack: async (requeue) => {
            if (requeue) await commands.rpush(list, payload)
          },
          // Back in the list for any member, counted: the envelope carries the attempt.
          requeue: async (headers) => {
            await commands.rpush(list, encodeEnvelope(headers, message.body))
          },
        },
      }),
    )
  }
}

/** `promise`, or a rejection after `ms`. */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}
