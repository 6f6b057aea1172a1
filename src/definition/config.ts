import type { ResilienceSpec } from '../resilience/policy.js'
import { Resilience, ResilienceConfigError } from '../resilience/resilience.js'
import { closest, type Problems } from './problems.js'
import { isTable, type Table, TableReader } from './table.js'

/** One entry of `types`: a kind, with the port given as `kind:port`. */
export interface KindEntry {
  kind: string
  port: number | undefined
  /** Position in `types`, for messages. */
  index: number
}

/** `[clients.<name>]`: how to reach a service this one calls. Every key is optional. */
export interface ClientConfig {
  /** The service's registered name; default the table's name. */
  service: string
  version?: string
  namespace?: string
  /** Call these `host:port` addresses instead of looking the service up. */
  address?: string[]
  /** Whole-call timeout, ms. */
  timeout?: number
  retries?: number
}

/** `[features.<name>]`: a table is enabled unless it says `enabled = false`. */
export interface FeatureConfig {
  enabled: boolean
  /** The table without `enabled`, for the feature to validate. */
  table: Table
}

/** A validated `service.toml`. */
export interface ServiceConfig {
  name: string
  /** Semver without the leading `v`, as registered. */
  version: string
  product: string | undefined
  types: KindEntry[]
  /** Variables that must be set (in addition to those the definition declares). */
  envs: string[]
  /** The module to load, relative to the toml; found by convention when unset. */
  entry: string | undefined
  features: Map<string, FeatureConfig>
  clients: Map<string, ClientConfig>
  /** `[runtime.<kind>]` tables, checked by each kind. */
  runtime: Map<string, Table>
  /** `[service]`: free-form settings handed to the definition as `settings`. */
  settings: Table
  /** `[resilience]`: named policies and their targets (src/resilience), checked here. */
  resilience: ResilienceSpec | undefined
}

/** What the validator must know about kinds and features (their names, and which kinds take a port). */
export interface Catalog {
  kinds: ReadonlyMap<string, { takesPort: boolean }>
  features: ReadonlySet<string>
}

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/
const NAME = /^[a-z][a-z0-9._-]*$/
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/
/** Kinds announced but not built yet: a clear message instead of "unknown kind". */
const PLANNED_KINDS: Record<string, string> = {}

/**
 * Validate a parsed `service.toml`. Every problem is recorded (with its key and a fix)
 * rather than stopping at the first; the result is only meaningful when none was found.
 */
export function validateConfig(raw: Table, catalog: Catalog, problems: Problems): ServiceConfig {
  const top = new TableReader(raw, '', problems)
  const name = top.string('name')
  if (name === undefined && raw.name === undefined) {
    top.problem('name', 'missing', 'add name = "my-service" at the top of service.toml')
  } else if (name !== undefined && !NAME.test(name)) {
    top.problem(
      'name',
      `"${name}" is not a valid service name`,
      'use lower-case letters, digits, ".", "_" or "-", starting with a letter',
    )
  }
  const version = top.string('version')
  if (version === undefined && raw.version === undefined) {
    top.problem('version', 'missing', 'add version = "v1.0.0"')
  } else if (version !== undefined && !SEMVER.test(version)) {
    top.problem(
      'version',
      `"${version}" is not a semantic version`,
      'use MAJOR.MINOR.PATCH such as "1.2.0" or "v1.2.0"',
    )
  }
  const types = readTypes(top, raw, catalog)
  const envs = top.strings('envs') ?? []
  envs.forEach((env, i) => {
    if (!ENV_NAME.test(env)) {
      top.problem(
        `envs[${i}]`,
        `"${env}" is not an environment variable name`,
        `use upper-case letters, digits and _, e.g. "${env.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}"`,
      )
    }
  })
  const config: ServiceConfig = {
    name: name ?? '',
    version: (version ?? '').replace(/^v/, ''),
    product: top.string('product'),
    types,
    envs,
    entry: top.string('entry'),
    features: readFeatures(top, catalog),
    clients: readClients(top, problems),
    runtime: readRuntime(top, raw.types, catalog),
    settings: top.table('service') ?? {},
    resilience: readResilience(top),
  }
  top.done()
  return config
}

function readTypes(top: TableReader, raw: Table, catalog: Catalog): KindEntry[] {
  const list = top.strings('types')
  if (list === undefined && raw.types === undefined) {
    top.problem('types', 'missing', `add types = ["rpc"] (kinds: ${[...catalog.kinds.keys()].join(', ')})`)
    return []
  }
  if (list === undefined) return []
  if (list.length === 0) {
    top.problem('types', 'is empty', `list at least one kind: ${[...catalog.kinds.keys()].join(', ')}`)
  }
  const entries: KindEntry[] = []
  const seen = new Set<string>()
  list.forEach((text, i) => {
    const key = `types[${i}]`
    const [kind = '', portText, ...extra] = text.split(':')
    const known = catalog.kinds.get(kind)
    if (!known) {
      const planned = PLANNED_KINDS[kind]
      const guess = closest(kind, catalog.kinds.keys())
      const choices = `use one of ${[...catalog.kinds.keys()].join(', ')}, or register it with registerKind()`
      top.problem(
        key,
        planned ?? `unknown kind "${kind}"`,
        guess && !planned ? `did you mean ${guess}? (${choices})` : choices,
      )
      return
    }
    if (seen.has(kind)) {
      top.problem(key, `duplicate kind "${kind}"`, `list each kind once; one process runs one of each`)
      return
    }
    seen.add(kind)
    let port: number | undefined
    if (portText !== undefined || extra.length > 0) {
      port = Number(portText)
      if (!known.takesPort) {
        top.problem(
          key,
          `the ${kind} kind does not listen on a port`,
          `write "${kind}" without ":${portText}"`,
        )
        port = undefined
      } else if (extra.length > 0 || !/^\d+$/.test(portText ?? '') || port > 65535) {
        top.problem(
          key,
          `port "${[portText, ...extra].join(':')}" is out of range`,
          `use "${kind}:<port>" with a port from 0 to 65535 (0: any free port)`,
        )
        port = undefined
      }
    }
    entries.push({ kind, port, index: i })
  })
  if (seen.has('rpc') && seen.has('grpc')) {
    top.problem(
      'types',
      'rpc and grpc both serve the RPC port, and a process has one',
      'keep one: grpc serves every endpoint (protobuf ones and plain handlers), rpc the micro protocol and HTTP',
    )
  }
  if (seen.has('script') && list.length > 1) {
    top.problem(
      'types',
      `script cannot be mixed with other kinds (${list.join(', ')})`,
      'a script runs once and exits: make it types = ["script"], and run the other kinds as their own service',
    )
  }
  return entries
}

function readFeatures(top: TableReader, catalog: Catalog): Map<string, FeatureConfig> {
  const features = new Map<string, FeatureConfig>()
  const tables = top.table('features') ?? {}
  for (const [name, value] of Object.entries(tables)) {
    const key = `features.${name}`
    if (!catalog.features.has(name)) {
      const guess = closest(name, catalog.features)
      const choices = `known features: ${[...catalog.features].join(', ')} (or registerFeature())`
      top.problem(key, `unknown feature "${name}"`, guess ? `did you mean ${guess}? (${choices})` : choices)
      continue
    }
    if (!isTable(value)) {
      top.problem(key, 'must be a table', `write it as [features.${name}] with enabled = true`)
      continue
    }
    const { enabled, ...table } = value
    if (enabled !== undefined && typeof enabled !== 'boolean') {
      top.problem(`${key}.enabled`, 'must be true or false', 'set enabled = true')
      continue
    }
    features.set(name, { enabled: enabled !== false, table })
  }
  return features
}

function readClients(top: TableReader, problems: Problems): Map<string, ClientConfig> {
  const clients = new Map<string, ClientConfig>()
  for (const [name, value] of Object.entries(top.table('clients') ?? {})) {
    if (!isTable(value)) {
      top.problem(`clients.${name}`, 'must be a table', `write it as [clients.${name}]`)
      continue
    }
    const r = new TableReader(value, `clients.${name}`, problems)
    const client: ClientConfig = { service: r.string('service') ?? name }
    const version = r.string('version')
    const namespace = r.string('namespace')
    const address = r.raw('address')
    const timeout = r.duration('timeout')
    const retries = r.integer('retries', 0, 10)
    if (version !== undefined) client.version = version.replace(/^v(?=\d)/, '')
    if (namespace !== undefined) client.namespace = namespace
    if (typeof address === 'string') client.address = [address]
    else if (Array.isArray(address) && address.every((a) => typeof a === 'string')) client.address = address
    else if (address !== undefined)
      r.problem('address', 'must be "host:port" or a list of them', 'set address = "127.0.0.1:7070"')
    if (timeout !== undefined) client.timeout = timeout
    if (retries !== undefined) client.retries = retries
    r.done()
    clients.set(name, client)
  }
  return clients
}

function readRuntime(top: TableReader, types: unknown, catalog: Catalog): Map<string, Table> {
  const runtime = new Map<string, Table>()
  // Kinds named in types, even in an entry with its own problem, so one mistake is reported once.
  const named = Array.isArray(types) ? types.map((t) => String(t).split(':')[0]) : undefined
  for (const [kind, value] of Object.entries(top.table('runtime') ?? {})) {
    if (!isTable(value)) {
      top.problem(`runtime.${kind}`, 'must be a table', `write it as [runtime.${kind}]`)
    } else if (named && !named.includes(kind)) {
      const why = catalog.kinds.has(kind) ? `kind ${kind} is not in types` : `there is no kind "${kind}"`
      top.problem(
        `runtime.${kind}`,
        `configures a kind this service does not run (${why})`,
        `add "${kind}" to types or remove [runtime.${kind}]`,
      )
    } else if (named) {
      runtime.set(kind, value)
    }
  }
  return runtime
}

/** `[resilience]`: the same shape as a platform's policies file; every mistake is a problem. */
function readResilience(top: TableReader): ResilienceSpec | undefined {
  const table = top.table('resilience')
  if (table === undefined) return undefined
  try {
    new Resilience(table as ResilienceSpec)
  } catch (error) {
    if (!(error instanceof ResilienceConfigError)) throw error
    for (const problem of error.problems) {
      const colon = problem.indexOf(': ')
      const dotted = colon === -1 ? '' : problem.slice(0, colon)
      top.problem(
        dotted && !dotted.includes(' ') ? `resilience.${dotted}` : 'resilience',
        colon === -1 || dotted.includes(' ') ? problem : problem.slice(colon + 2),
        'see src/resilience/README.md for the policies and their settings',
      )
    }
    return undefined
  }
  return table as ResilienceSpec
}
