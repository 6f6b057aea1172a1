import { type KindEntry, type ServiceConfig, validateConfig } from './config.js'
import { isServiceDefinition, type ServiceDefinition } from './define.js'
import { resolveEnv } from './env.js'
import type { Feature } from './feature.js'
import type { Kind } from './kind.js'
import { BUILT_IN_KINDS, catalog, loadFeature, loadKind } from './plugins.js'
import { DefinitionError, Problems } from './problems.js'
import { isTable, type Table, TableReader } from './table.js'

/** A kind ready to start: its plugin, its settings and the definition's factory. */
export interface PreparedKind {
  entry: KindEntry
  kind: Kind<unknown>
  settings: unknown
  factory: (deps: any) => unknown
}

/** An enabled feature ready to init. */
export interface PreparedFeature {
  name: string
  feature: Feature<unknown, unknown>
  config: unknown
}

/** Everything checked: a service that can start. */
export interface Prepared {
  config: ServiceConfig
  definition: ServiceDefinition
  kinds: PreparedKind[]
  /** Enabled features, `logging` first, then in the toml's order. */
  features: PreparedFeature[]
  env: Record<string, unknown>
  /** Things that work but look like mistakes (a factory for a kind not in types). */
  warnings: string[]
}

/** What `prepare` checks. */
export interface PrepareInput {
  /** The parsed service.toml. */
  raw: Table
  /** Where it came from, for messages. */
  source: string
  definition: unknown
  envSource: NodeJS.ProcessEnv
  /** Over the toml: `false` disables a feature, `true` enables it, a table enables and configures it. */
  features?: Readonly<Record<string, boolean | Table>>
  /** Features enabled when the toml has no table for them (the runner: logging). */
  defaultFeatures?: readonly string[]
}

/**
 * Check a service before starting anything: the toml, each kind's and feature's settings,
 * that the definition has a factory for each kind, and the environment. Every problem
 * found is reported at once in one DefinitionError.
 */
export async function prepare(input: PrepareInput): Promise<Prepared> {
  const problems = new Problems()
  const definition = input.definition
  if (!isServiceDefinition(definition)) {
    throw new DefinitionError(input.source, [
      {
        key: 'definition',
        message: 'the module does not export a service definition',
        fix: 'export default defineService({ ... })',
      },
    ])
  }
  const raw = withFeatureOverrides(input.raw, input.features, input.defaultFeatures ?? [])
  const config = validateConfig(raw, catalog(), problems)
  const kinds = await prepareKinds(config, definition, problems)
  const features = await prepareFeatures(config, problems)
  const env = await resolveEnv(
    { service: config.name, spec: definition.spec.env, required: config.envs, source: input.envSource },
    problems,
  )
  problems.throwIfAny(input.source)
  return { config, definition, kinds, features, env, warnings: unusedFactories(config, definition) }
}

async function prepareKinds(
  config: ServiceConfig,
  definition: ServiceDefinition,
  problems: Problems,
): Promise<PreparedKind[]> {
  const prepared: PreparedKind[] = []
  for (const entry of config.types) {
    const kind = await loadKind(entry.kind)
    const reader = new TableReader(config.runtime.get(entry.kind), `runtime.${entry.kind}`, problems)
    const settings = kind.configure(reader)
    reader.done()
    const spec = definition.spec as Record<string, unknown>
    const builtIn = BUILT_IN_KINDS.has(entry.kind)
    const factory = builtIn
      ? spec[entry.kind]
      : (spec.kinds as Record<string, unknown> | undefined)?.[entry.kind]
    if (typeof factory !== 'function') {
      const where = builtIn ? entry.kind : `kinds.${entry.kind}`
      problems.add(
        `types[${entry.index}]`,
        `the service runs ${entry.kind} but its definition has no ${where} factory`,
        `add ${where}: (deps) => ... to defineService, or remove "${entry.kind}" from types`,
      )
      continue
    }
    prepared.push({ entry, kind, settings, factory: factory as (deps: unknown) => unknown })
  }
  return prepared
}

async function prepareFeatures(config: ServiceConfig, problems: Problems): Promise<PreparedFeature[]> {
  const prepared: PreparedFeature[] = []
  const names = [...config.features.keys()].sort((a, b) => Number(b === 'logging') - Number(a === 'logging'))
  for (const name of names) {
    const entry = config.features.get(name)
    if (!entry?.enabled) continue
    const feature = await loadFeature(name)
    const reader = new TableReader(entry.table, `features.${name}`, problems)
    reader.raw('enabled')
    const featureConfig = feature.configure(reader)
    reader.done()
    prepared.push({ name, feature, config: featureConfig })
  }
  return prepared
}

function withFeatureOverrides(
  raw: Table,
  overrides: Readonly<Record<string, boolean | Table>> = {},
  defaults: readonly string[],
): Table {
  const tables = isTable(raw.features) ? raw.features : undefined
  if (raw.features !== undefined && !tables) return raw
  const features: Table = { ...tables }
  for (const name of defaults) if (!(name in features)) features[name] = {}
  for (const [name, value] of Object.entries(overrides)) {
    const current = isTable(features[name]) ? (features[name] as Table) : {}
    features[name] =
      value === false
        ? { ...current, enabled: false }
        : value === true
          ? { ...current, enabled: true }
          : { ...current, ...value, enabled: true }
  }
  return Object.keys(features).length > 0 ? { ...raw, features } : raw
}

function unusedFactories(config: ServiceConfig, definition: ServiceDefinition): string[] {
  const spec = definition.spec as Record<string, unknown>
  const running = new Set(config.types.map((t) => t.kind))
  return [...BUILT_IN_KINDS]
    .filter((kind) => typeof spec[kind] === 'function' && !running.has(kind))
    .map((kind) => `the definition has a ${kind} factory but types does not list ${kind}: it does not run`)
}
