import { MicroError } from '../../errors/errors.js'
import type { PlatformClient } from './platform-client.js'

/** A message the platform's `Broker.Subscribe` delivers: the payload decoded as JSON when it is. */
export interface PlatformMessage {
  topic: string
  id: string
  headers: Record<string, string>
  payload: unknown
  encoding?: string
}

/**
 * Publish `message` (JSON) on `topic` through the platform: `Broker.Publish {topic, message,
 * metadata?, namespace}`, answering `{id}`.
 */
export async function platformPublish(
  platform: PlatformClient,
  topic: string,
  message: unknown,
  options: { metadata?: Record<string, string>; namespace: string },
): Promise<string> {
  const reply = await platform.call<{ id?: string }>('Broker.Publish', {
    topic,
    message,
    metadata: options.metadata,
    namespace: options.namespace,
  })
  return reply?.id ?? ''
}

/**
 * The messages on `topic` through the platform's `Broker.Subscribe` stream (first message
 * `{topic, queue?, namespace}`; the replies are {@link PlatformMessage}s) until `signal`
 * aborts or the platform ends the stream. `onReady` runs once the subscription request is sent.
 */
export async function* platformSubscribe(
  platform: PlatformClient,
  topic: string,
  options: { queue?: string; namespace: string; signal: AbortSignal; onReady?: () => void },
): AsyncGenerator<PlatformMessage> {
  const stream = platform.stream<unknown, PlatformMessage>('Broker.Subscribe')
  const stop = () => stream.cancel('subscription stopped')
  options.signal.addEventListener('abort', stop, { once: true })
  try {
    await stream.send({ topic, queue: options.queue, namespace: options.namespace })
    options.onReady?.()
    for await (const message of stream) yield message
  } catch (error) {
    if (!(options.signal.aborted && error instanceof MicroError)) throw error
  } finally {
    options.signal.removeEventListener('abort', stop)
    if (!options.signal.aborted) stop()
  }
}
