import { createLogger, type Logger } from '../logger/logger.js'
import { isSealed, parseSecretKey, secretKeyFromEnv } from './cipher.js'
import { expandTree } from './expand.js'
import { SourceLayer } from './layer.js'
import { Secret } from './secret.js'
import type { Source } from './source.js'
import {
  type ConfigObject,
  clone,
  deepFreeze,
  deleteAt,
  getAt,
  isPlainObject,
  mapStrings,
  merge,
  setAt,
  splitPath,
} from './tree.js'
import { Value } from './value.js'
import { ConfigWatcher } from './watch.js'

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Merged in order: a later source wins over an earlier one. */
  sources: readonly Source[]
  /** Variables for `${VAR}` expansion and MICRO_CONFIG_SECRET_KEY. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** The 32-byte secrets key (base64 or hex text, or bytes); default MICRO_CONFIG_SECRET_KEY. */
  secretKey?: string | Buffer
  /** Watch sources for changes. Default true. */
  watch?: boolean
  logger?: Logger
}

/** Options of {@link Config.watch}. */
export interface ConfigWatchOptions {
  /** Ends the iteration. */
  signal?: AbortSignal
  /** Yield the current value first, then changes. Default false (changes only). */
  initial?: boolean
}

/**
 * Load config from `sources`, merged in order (later wins; objects merge key by key, arrays
 * and values replace). Every source is read before this resolves; a source that fails
 * rejects the load with its error (e.g. a missing file: 404, a syntax error: 400).
 */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const config = new Config(options)
  try {
    await config.reload()
  } catch (error) {
    await config.close()
    throw error
  }
  return config
}

/**
 * Loaded config: typed reads with {@link get}, in-process overrides with {@link set}, and
 * {@link watch} for hot reload. After the load, a source that changes is re-read and merged
 * again; one that fails (a file saved with a syntax error) keeps its previous values, the
 * error is logged, and watchers see nothing until a good version arrives.
 */
export class Config {
  readonly #layers: SourceLayer[]
  readonly #env: NodeJS.ProcessEnv
  readonly #key: () => Buffer
  readonly #watchers = new Set<ConfigWatcher>()
  #overrides: ConfigObject = {}
  #tree: ConfigObject = deepFreeze({})
  #closed = false

  /** Prefer {@link loadConfig}, which also reads the sources. */
  constructor(options: LoadConfigOptions) {
    const logger = options.logger ?? createLogger({ fields: { component: 'config' } })
    this.#env = options.env ?? process.env
    this.#key = keyGetter(options.secretKey, this.#env)
    this.#layers = options.sources.map((source) => new SourceLayer(source, () => this.#rebuild(), logger))
    if (options.watch !== false) for (const layer of this.#layers) layer.watch()
  }

  /** The value at a dotted path (`db.url`); the root without one. */
  get(path = ''): Value {
    return new Value(path, getAt(this.#tree, splitPath(path)))
  }

  /** The whole merged config: frozen, secrets masked when printed. */
  all(): Readonly<ConfigObject> {
    return this.#tree
  }

  /** Override the value at a path in this process (above every source); watchers see it at once. */
  set(path: string, value: unknown): void {
    const parts = splitPath(path)
    if (parts.length === 0) {
      if (!isPlainObject(value)) throw new TypeError('the config root can only be set to an object')
      this.#overrides = clone(value) as ConfigObject
    } else {
      setAt(this.#overrides, parts, clone(value))
    }
    this.#rebuild()
  }

  /** Remove an override made with {@link set}; the sources' value shows again. */
  delete(path: string): boolean {
    const parts = splitPath(path)
    const removed = parts.length === 0 ? true : deleteAt(this.#overrides, parts)
    if (parts.length === 0) this.#overrides = {}
    if (removed) this.#rebuild()
    return removed
  }

  /**
   * The values at `path` as they change (compared deeply; a re-read that changes nothing
   * yields nothing). Ends on {@link close}, on `signal`, or when the loop breaks.
   */
  watch(path = '', options: ConfigWatchOptions = {}): AsyncIterableIterator<Value> {
    const signal = options.signal
    const onAbort = () => watcher.end()
    const watcher = new ConfigWatcher(path, splitPath(path), this.#tree, (w) => {
      this.#watchers.delete(w)
      signal?.removeEventListener('abort', onAbort)
    })
    if (options.initial) watcher.primeInitial()
    if (this.#closed || signal?.aborted) {
      watcher.end()
      return watcher
    }
    this.#watchers.add(watcher)
    signal?.addEventListener('abort', onAbort, { once: true })
    return watcher
  }

  /**
   * Re-read every source now (Go Micro's `Sync`). Sources that fail keep their previous
   * values and the first failure rejects (it is not logged: the caller has it).
   */
  async reload(): Promise<void> {
    const results = await Promise.allSettled(this.#layers.map((layer) => layer.read()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  /** Stop watching sources and end every watcher. Values stay readable. */
  async close(): Promise<void> {
    this.#closed = true
    for (const layer of this.#layers) layer.close()
    for (const watcher of [...this.#watchers]) watcher.end()
  }

  /** Stop the config's watches (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #rebuild(): void {
    let merged: ConfigObject = {}
    for (const layer of this.#layers) merged = merge(merged, layer.data)
    merged = merge(merged, this.#overrides)
    const expanded = expandTree(merged, this.#env)
    const tree = mapStrings(expanded, (text, path) =>
      isSealed(text) ? Secret.sealed(text, this.#key, path) : text,
    ) as ConfigObject
    this.#tree = deepFreeze(tree)
    for (const watcher of [...this.#watchers]) watcher.update(this.#tree)
  }
}

/** The secrets key, resolved on first use so config without secrets needs none. */
function keyGetter(option: string | Buffer | undefined, env: NodeJS.ProcessEnv): () => Buffer {
  let key: Buffer | undefined
  return () => {
    key ??=
      option === undefined
        ? secretKeyFromEnv(env)
        : typeof option === 'string'
          ? parseSecretKey(option, 'secretKey')
          : parseSecretKey(option.toString('base64'), 'secretKey')
    return key
  }
}
