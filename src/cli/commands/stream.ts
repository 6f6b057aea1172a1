import type { EventOffset, Events, StoredEvent } from '../../events/events.js'
import { createEvents, EVENTS_NAMES } from '../../events/from-env.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'
import { parseJsonArgument, parseMetadata, readStdin } from '../input.js'
import { platformEvents } from '../platform/blocks.js'

/** The help text of `micro stream`. */
export const STREAM_HELP = `Usage: micro stream publish <topic> <json> [options]
       micro stream consume <topic> [--group <g>] [--offset <seq|time>] [options]
       micro stream read <topic> [--limit <n>] [--offset <seq>] [--since <time>] [options]

Durable event streams (the platform's when one is in use: micro env). publish stores an event ('-' reads the JSON from standard input);
consume prints events as JSON lines, acknowledging each once printed, until Ctrl-C
(a new group starts with the next event unless --offset says where); read prints
stored events from the start of the stream (or --offset / --since) and exits.

  micro stream publish orders.created '{"id":42}' --metadata source=cli
  micro stream consume orders.created --group billing --offset 1
  micro stream read orders.created --since 2024-05-01T00:00:00Z --limit 10

Options:
  --events <name>            ${EVENTS_NAMES.join(', ')} (MICRO_EVENTS, default file)
  --events_address <addr>    directory or server address (MICRO_EVENTS_ADDRESS)
  --metadata <key=value>     publish: metadata (repeatable)
  --group <g>                consume: the group (default: a private one)
  --offset <seq|time>        consume: where a new group starts; read: first sequence
  --since <time>             read: events stored at or after this ISO time
  --limit <n>                read: at most n events (default 100)
${GLOBAL_HELP}`

const SPEC = {
  events: { type: 'string' },
  events_address: { type: 'string' },
  metadata: { type: 'string', multiple: true },
  group: { type: 'string' },
  offset: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
} as const

/**
 * `micro stream publish|consume|read`. `consume` runs until `signal` aborts (without one,
 * until SIGINT or SIGTERM).
 */
export async function streamCommand(
  argv: string[],
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, SPEC)
  if (global.help) {
    out(STREAM_HELP)
    return 0
  }
  const [action, topic, body, ...extra] = positionals
  if (action !== 'publish' && action !== 'consume' && action !== 'read')
    throw new UsageError(`stream needs publish, consume or read${action ? `, not ${action}` : ''}`)
  if (!topic) throw new UsageError(`stream ${action} needs a topic, e.g. orders.created`)
  if (action === 'publish' && body === undefined)
    throw new UsageError('stream publish needs a topic and a JSON payload, e.g. \'{"id":42}\'')
  if (extra.length > 0 || (action !== 'publish' && body !== undefined))
    throw new UsageError(`too many arguments for stream ${action} (quote the JSON payload)`)
  const events = openEvents(global, values)
  try {
    if (action === 'publish') return await publish(events, global, topic, body as string, values, out)
    if (action === 'read') return await read(events, global, topic, values, out)
    return await consume(events, global, topic, values, out, signal)
  } finally {
    await events.close()
  }
}

async function publish(
  events: Events,
  global: GlobalOptions,
  topic: string,
  body: string,
  values: Record<string, unknown>,
  out: (text: string) => void,
): Promise<number> {
  const payload = parseJsonArgument(body === '-' ? await readStdin() : body, 'payload')
  const metadata = parseMetadata((values.metadata as string[] | undefined) ?? [])
  const record = await events.publish(topic, payload, { namespace: global.namespace, metadata })
  out(JSON.stringify(record))
  return 0
}

async function read(
  events: Events,
  global: GlobalOptions,
  topic: string,
  values: Record<string, unknown>,
  out: (text: string) => void,
): Promise<number> {
  const offset = values.offset === undefined ? undefined : parseOffset(values.offset as string)
  if (offset instanceof Date)
    throw new UsageError('read takes a sequence as --offset; use --since for a time')
  const since = values.since === undefined ? undefined : parseTime(values.since as string, '--since')
  const limit = values.limit === undefined ? undefined : parseCount(values.limit as string)
  const list = await events.read(topic, { namespace: global.namespace, offset, since, limit })
  for (const event of list) out(line(event))
  return 0
}

async function consume(
  events: Events,
  global: GlobalOptions,
  topic: string,
  values: Record<string, unknown>,
  out: (text: string) => void,
  signal: AbortSignal | undefined,
): Promise<number> {
  const offset = values.offset === undefined ? undefined : parseOffset(values.offset as string)
  const stop = signal ?? interrupted()
  const consumer = events.consume(topic, {
    namespace: global.namespace,
    group: values.group as string | undefined,
    offset,
    ack: 'manual',
    signal: stop,
  })
  for await (const event of consumer) {
    out(line(event))
    await event.ack()
  }
  return 0
}

/** The platform's events when one is in use, else those the options (or MICRO_EVENTS / MICRO_EVENTS_ADDRESS) name. */
function openEvents(global: GlobalOptions, values: Record<string, unknown>): Events {
  if (global.platform !== undefined) return platformEvents(global.platform, global.namespace)
  const name = (values.events as string | undefined) ?? (process.env.MICRO_EVENTS || undefined)
  const address =
    (values.events_address as string | undefined) ?? (process.env.MICRO_EVENTS_ADDRESS || undefined)
  try {
    return createEvents(name, address)
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/** One event as a JSON line; bytes that are not JSON are shown as base64. */
function line(event: StoredEvent): string {
  const { id, topic, sequence, timestamp, metadata, contentType, payload } = event
  const shown: Record<string, unknown> = { id, topic, sequence, timestamp, metadata }
  if (payload instanceof Uint8Array) {
    shown.contentType = contentType
    shown.payloadBase64 = Buffer.from(payload).toString('base64')
  } else if (event.decodeError !== undefined) {
    shown.contentType = contentType
    shown.decodeError = event.decodeError
    shown.payloadBase64 = Buffer.from(event.raw).toString('base64')
  } else {
    shown.payload = payload
  }
  return JSON.stringify(shown)
}

/** A signal that aborts on the first SIGINT or SIGTERM (handlers removed once it does). */
function interrupted(): AbortSignal {
  const controller = new AbortController()
  const stop = () => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    controller.abort()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}

function parseOffset(text: string): EventOffset {
  if (/^\d+$/.test(text)) return Number(text)
  return parseTime(text, '--offset')
}

function parseTime(text: string, what: string): Date {
  const time = new Date(text)
  if (Number.isNaN(time.getTime()))
    throw new UsageError(
      `${what} wants a sequence number or an ISO time like 2024-05-01T12:00:00Z, not ${text}`,
    )
  return time
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`--limit wants a whole number >= 1, not ${text}`)
  return Number(text)
}
