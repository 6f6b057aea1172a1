import type { Broker } from '../../broker/broker.js'
import { BROKER_NAMES, createBroker } from '../../broker/from-env.js'
import { publish } from '../../broker/publish.js'
import { createRegistry } from '../../registry/from-env.js'
import type { Registry } from '../../registry/registry.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'
import { parseJsonArgument, parseMetadata, readStdin } from '../input.js'
import { platformBroker } from '../platform/blocks.js'

/** Broker options shared by `micro publish` and `micro subscribe`. */
export const BROKER_HELP = `  --broker <name>           ${BROKER_NAMES.join(', ')} (MICRO_BROKER; 'default' when unset)
  --broker_address <addr>   the broker's address, e.g. nats://127.0.0.1:4222 (MICRO_BROKER_ADDRESS)`

/** The parseCommand spec of the broker options. */
export const BROKER_OPTIONS = {
  broker: { type: 'string' },
  broker_address: { type: 'string' },
} as const

export const PUBLISH_HELP = `Usage: micro publish [options] <topic> [message-json]

Publish a JSON message (default {}) to a topic and print its id. '-' reads the
message from standard input. With a platform in use (micro env) it goes through the
platform's broker; the --broker options are for this machine.

  micro publish orders.created '{"order":42}'

Options:
  --metadata <key=value>    send metadata as headers (repeatable)
${BROKER_HELP}
${GLOBAL_HELP}`

/** A broker as the CLI options and MICRO_BROKER* name it, with what it needs; close when done. */
export interface BrokerSession {
  broker: Broker
  close(): Promise<void>
}

/** Open the broker `--broker`/`--broker_address` (or MICRO_BROKER/MICRO_BROKER_ADDRESS) name. */
export function openBroker(global: GlobalOptions, values: Record<string, unknown>): BrokerSession {
  if (global.platform !== undefined) {
    // The platform's broker, through its Broker service, with the login's token.
    const broker = platformBroker(global.platform, global.namespace)
    return { broker, close: () => broker.close() }
  }
  const name = (values.broker as string | undefined) ?? (process.env.MICRO_BROKER || 'default')
  const address =
    (values.broker_address as string | undefined) ?? (process.env.MICRO_BROKER_ADDRESS || undefined)
  // Only the default broker finds subscribers through the registry.
  const registry: Registry | undefined =
    name.trim().toLowerCase() === 'default'
      ? createRegistry(global.registry, global.registryAddress)
      : undefined
  let broker: Broker
  try {
    broker = createBroker(name, address, { registry, namespace: global.namespace })
  } catch (error) {
    void registry?.close()
    throw new UsageError((error as Error).message)
  }
  return {
    broker,
    async close() {
      await broker.close()
      await registry?.close()
    },
  }
}

/** `micro publish`: one message; prints `{"topic","id"}`. */
export async function publishCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    metadata: { type: 'string', multiple: true },
    ...BROKER_OPTIONS,
  })
  if (global.help) {
    out(PUBLISH_HELP)
    return 0
  }
  const [topic, messageText] = positionals
  if (!topic)
    throw new UsageError('publish needs a topic, e.g. micro publish orders.created \'{"order":42}\'')
  if (positionals.length > 2)
    throw new UsageError(
      `publish takes at most 2 arguments; got ${positionals.length} (quote the JSON message)`,
    )
  const message = parseJsonArgument(
    messageText === '-' ? await readStdin() : (messageText ?? '{}'),
    'message',
  )
  const metadata = parseMetadata((values.metadata as string[] | undefined) ?? [])
  const session = openBroker(global, values)
  try {
    const id = await publish(session.broker, topic, message, { metadata, caller: 'micro.cli' })
    out(JSON.stringify({ topic, id }))
    return 0
  } finally {
    await session.close()
  }
}
