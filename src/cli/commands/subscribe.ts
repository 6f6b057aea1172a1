import { once } from 'node:events'
import type { Delivery } from '../../broker/broker.js'
import { defaultCodecs } from '../../codec/codecs.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'
import { BROKER_HELP, BROKER_OPTIONS, openBroker } from './publish.js'

export const SUBSCRIBE_HELP = `Usage: micro subscribe [options] <topic>

Print each message on a topic as it arrives, one JSON line per message
({"topic","id","headers","payload"}), until Ctrl-C. The payload is decoded by its
content type; bytes that are not text are shown as base64 ("encoding":"base64").
With a platform in use (micro env) it subscribes through the platform's broker.

  micro subscribe orders.created --queue audit

Options:
  --queue <group>           join a queue group (its members share the messages)
  --count <n>               exit after n messages
${BROKER_HELP}
${GLOBAL_HELP}`

/**
 * `micro subscribe`: prints messages until `signal` aborts (by default SIGINT/SIGTERM) or
 * `--count` messages have arrived. `onReady` is called once the subscription is live.
 */
export async function subscribeCommand(
  argv: string[],
  out: (text: string) => void,
  signal?: AbortSignal,
  onReady?: () => void,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    queue: { type: 'string' },
    count: { type: 'string' },
    ...BROKER_OPTIONS,
  })
  if (global.help) {
    out(SUBSCRIBE_HELP)
    return 0
  }
  const [topic] = positionals
  if (!topic) throw new UsageError('subscribe needs a topic, e.g. micro subscribe orders.created')
  if (positionals.length > 1)
    throw new UsageError(`subscribe takes one topic; got ${positionals.length} arguments`)
  const count = values.count === undefined ? undefined : Number(values.count)
  if (count !== undefined && (!Number.isInteger(count) || count < 1))
    throw new UsageError(`--count wants a positive whole number, got ${values.count}`)
  const stop = new AbortController()
  const removeSignals = signal ? undefined : onSignals(stop)
  signal?.addEventListener('abort', () => stop.abort(), { once: true })
  if (signal?.aborted) stop.abort()
  const session = openBroker(global, values)
  let seen = 0
  try {
    await session.broker.subscribe(
      topic,
      (delivery) => {
        if (count !== undefined && seen >= count) return
        seen++
        out(JSON.stringify(describe(delivery)))
        if (count !== undefined && seen >= count) stop.abort()
      },
      { queue: values.queue as string | undefined, signal: stop.signal },
    )
    onReady?.()
    if (!stop.signal.aborted) await once(stop.signal, 'abort')
    return 0
  } finally {
    removeSignals?.()
    await session.close()
  }
}

/** One message as the JSON line printed for it. */
function describe(delivery: Delivery): Record<string, unknown> {
  const line: Record<string, unknown> = { topic: delivery.topic, id: delivery.id, headers: delivery.headers }
  const codec = defaultCodecs.get(delivery.headers['content-type'])
  let payload: unknown = delivery.body
  if (codec) {
    try {
      payload = codec.decode(delivery.body)
    } catch (error) {
      line.error = `cannot decode as ${codec.contentType}: ${(error as Error).message}`
    }
  }
  if (payload instanceof Uint8Array) {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
    const text = bytes.toString('utf8')
    if (Buffer.from(text, 'utf8').equals(bytes)) payload = text
    else {
      payload = bytes.toString('base64')
      line.encoding = 'base64'
    }
  }
  line.payload = payload
  return line
}

/** Abort on the first SIGINT or SIGTERM; returns a function removing the handlers. */
function onSignals(stop: AbortController): () => void {
  const handler = () => stop.abort()
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
