import type { Catalog } from './config.js'
import type { Feature } from './feature.js'
import type { Kind } from './kind.js'

interface KindEntry {
  takesPort: boolean
  load: () => Promise<Kind<any>>
}

interface FeatureEntry {
  load: () => Promise<Feature<any, any>>
}

// Built-ins are imported on first use: a service pays only for the kinds and features it runs.
const kinds = new Map<string, KindEntry>([
  ['rpc', { takesPort: true, load: async () => (await import('./kinds/rpc.js')).rpcKind }],
  ['grpc', { takesPort: true, load: async () => (await import('./kinds/grpc.js')).grpcKind }],
  ['http', { takesPort: true, load: async () => (await import('./kinds/http.js')).httpKind }],
  ['worker', { takesPort: false, load: async () => (await import('./kinds/worker.js')).workerKind }],
  ['script', { takesPort: false, load: async () => (await import('./kinds/script.js')).scriptKind }],
])

const features = new Map<string, FeatureEntry>([
  ['logging', { load: async () => (await import('../features/logging/index.js')).loggingFeature }],
  ['health', { load: async () => (await import('../features/health/index.js')).healthFeature }],
  ['tracing', { load: async () => (await import('../features/tracing/index.js')).tracingFeature }],
  ['metrics', { load: async () => (await import('../features/metrics/index.js')).metricsFeature }],
])

/** The kinds built in: their factories are the top-level keys of a definition. */
export const BUILT_IN_KINDS: ReadonlySet<string> = new Set(kinds.keys())

/**
 * Add a service kind. `types = ["<name>"]` then runs it, with the definition's
 * `kinds.<name>` factory and the `[runtime.<name>]` table. Names are unique.
 */
export function registerKind(kind: Kind<any>): void {
  if (!kind || typeof kind.name !== 'string' || typeof kind.start !== 'function') {
    throw new TypeError('registerKind needs a kind: { name, configure, start }')
  }
  if (kinds.has(kind.name)) throw new TypeError(`kind ${kind.name} is already registered`)
  kinds.set(kind.name, { takesPort: kind.port !== undefined, load: async () => kind })
}

/**
 * Add a feature, enabled by a `[features.<name>]` table. Pass the feature, or
 * `{ name, load }` to import it only when a service enables it.
 */
export function registerFeature(
  feature: Feature<any, any> | { name: string; load: () => Promise<Feature<any, any>> },
): void {
  if (!feature || typeof feature.name !== 'string')
    throw new TypeError('registerFeature needs { name, configure, init }')
  if (features.has(feature.name)) throw new TypeError(`feature ${feature.name} is already registered`)
  const load = 'load' in feature ? feature.load : async () => feature as Feature<any, any>
  features.set(feature.name, { load })
}

/** What the toml validator must know: kind names (and which take a port), feature names. */
export function catalog(): Catalog {
  return {
    kinds: new Map([...kinds].map(([name, e]) => [name, { takesPort: e.takesPort }])),
    features: new Set(features.keys()),
  }
}

/** The kind registered under `name`. */
export function loadKind(name: string): Promise<Kind<any>> {
  const entry = kinds.get(name)
  if (!entry) return Promise.reject(new TypeError(`no kind ${name} is registered`))
  return entry.load()
}

/** The feature registered under `name`. */
export function loadFeature(name: string): Promise<Feature<any, any>> {
  const entry = features.get(name)
  if (!entry) return Promise.reject(new TypeError(`no feature ${name} is registered`))
  return entry.load()
}
