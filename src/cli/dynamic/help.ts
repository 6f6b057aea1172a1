import type { EndpointRecord } from '../../registry/registry.js'
import { type Field, fieldsOf, typeLabel } from './fields.js'
import { commandWords } from './words.js'

/** Options of the CLI itself; a request field with one of these names is set with `--json`. */
export const RESERVED_OPTIONS: ReadonlySet<string> = new Set([
  'json',
  'metadata',
  'timeout',
  'namespace',
  'platform',
  'registry',
  'registry_address',
  'help',
])

/** The options a dynamic command takes besides the request's fields. */
export const DYNAMIC_OPTIONS = `Options:
  --json <request>          the whole request as JSON ('-': standard input; for a
                            streaming endpoint, one message per line); flags given
                            with it set fields on top of it
  --metadata <key=value>    send metadata (repeatable)
  --timeout <duration>      give up after this long (default 10s; streams: none)
  --namespace <ns>          the namespace to look the service up in (then micro)
  --platform <host:port>    go through this platform (else MICRO_PLATFORM, the
                            current environment, or this machine directly)
  --registry, --registry_address   the registry, without a platform
  -h, --help                this help`

const FLAG_RULES = `Flags are the request's fields, typed from the endpoint's JSON Schema: numbers and
booleans (--vip, --vip=false) are checked, arrays repeat or take a comma list
(--tags a,b), nested fields use dots (--address.city=Paris). A streaming endpoint
sends the flags as one message, or with none each line of standard input, and prints
each reply as one line of JSON.`

/** Where the service was found, for the help's heading. */
export interface Where {
  namespace: string
  platform: string | undefined
}

/** `micro <service> --help`: every endpoint with its words and fields. */
export function serviceHelp(service: string, endpoints: readonly EndpointRecord[], where: Where): string {
  const sorted = [...endpoints].sort((a, b) => a.name.localeCompare(b.name))
  const lines = [
    `Usage: micro ${service} <endpoint> [--field value ...]`,
    '',
    `Endpoints of ${service} (${describeWhere(where)}):`,
    '',
  ]
  if (sorted.length === 0) lines.push('  (none registered)')
  for (const endpoint of sorted) lines.push(...endpointLines(service, endpoint))
  lines.push('', FLAG_RULES, '', DYNAMIC_OPTIONS)
  return lines.join('\n')
}

/** `micro <service> <endpoint words> --help`: one endpoint's fields. */
export function endpointHelp(service: string, endpoint: EndpointRecord, where: Where): string {
  const words = commandWords(service, endpoint.name).join(' ')
  return [
    `Usage: micro ${service} ${words} [--field value ...]`,
    '',
    `${endpoint.name} of ${service} (${describeWhere(where)}):`,
    '',
    ...endpointLines(service, endpoint),
    '',
    FLAG_RULES,
    '',
    DYNAMIC_OPTIONS,
  ].join('\n')
}

function describeWhere(where: Where): string {
  const namespace = `namespace ${where.namespace}`
  return where.platform === undefined ? namespace : `${namespace}, platform ${where.platform}`
}

function endpointLines(service: string, endpoint: EndpointRecord): string[] {
  const command = `micro ${service} ${commandWords(service, endpoint.name).join(' ')}`
  const stream = endpoint.metadata.stream === 'true' ? '  (stream)' : ''
  const lines = [`  ${command.padEnd(30)} ${endpoint.name}${stream}`]
  const fields = fieldsOf(endpoint.request)
  if (!endpoint.request)
    lines.push('      (no request schema published: any --flag, taken as JSON when it parses)')
  else if (fields.length === 0) lines.push('      (no fields)')
  for (const field of fields) lines.push(fieldLine(field))
  return lines
}

function fieldLine(field: Field): string {
  const flag = `--${field.flag} ${typeLabel(field)}`
  const notes: string[] = []
  if (field.required) notes.push('required')
  else if (field.requiredInParent) notes.push(`required with --${field.path.slice(0, -1).join('.')}`)
  if (field.choices) notes.push(`one of ${field.choices.map((c) => JSON.stringify(c)).join(', ')}`)
  if (field.default !== undefined) notes.push(`default ${JSON.stringify(field.default)}`)
  if (field.description) notes.push(field.description)
  if (RESERVED_OPTIONS.has(field.path[0] as string)) notes.push("a CLI option's name: set it with --json")
  return `      ${flag.padEnd(28)} ${notes.join('; ')}`.trimEnd()
}
