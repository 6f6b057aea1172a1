import type { Logger } from '../logger/logger.js'
import type { EndpointRecord, ServiceRecord } from '../registry/registry.js'
import { assignToolNames, key } from './naming.js'
import type { CallSource, ServiceSource } from './sources.js'
import { endpointTool, type ToolEntry } from './tools.js'

/** Options of {@link ToolCatalogue}. */
export interface CatalogueOptions {
  namespace: string
  services: ServiceSource
  client: CallSource
  /** Built-in tools, listed after the endpoints' (their names are never given to endpoints). */
  builtins?: readonly ToolEntry[]
  /** Which endpoints become tools; default every unary endpoint of every service but `platform`. */
  include?: (service: string, endpoint: EndpointRecord) => boolean
  /** Read the list again this often, ms, as well as on watch events. Default 30 s (5 s without a watch). */
  pollInterval?: number
  logger?: Logger
}

/** Unary endpoints of every service but the platform's own (its blocks are the platform tools). */
export function defaultInclude(service: string, endpoint: EndpointRecord): boolean {
  return service !== 'platform' && endpoint.metadata?.stream !== 'true'
}

/**
 * The tools of a namespace: every endpoint of every registered service, named by
 * {@link assignToolNames}, kept in memory and rebuilt when the registry changes (a watch, and
 * a periodic read as a safety net). Listeners hear about a change only when the tools
 * agents see actually differ.
 */
export class ToolCatalogue {
  readonly #options: CatalogueOptions
  readonly #listeners = new Set<() => void>()
  readonly #stop = new AbortController()
  #tools: readonly ToolEntry[] = []
  #byName = new Map<string, ToolEntry>()
  #fingerprint = ''
  #running: Promise<void> | undefined
  #dirty = false
  #timer: NodeJS.Timeout | undefined
  #loaded: Promise<void> | undefined

  constructor(options: CatalogueOptions) {
    this.#options = options
  }

  /** Read the services and start following them; resolves once the first list is in. */
  start(): Promise<void> {
    if (this.#loaded) return this.#loaded
    this.#loaded = this.refresh()
    const interval = this.#options.pollInterval ?? (this.#options.services.watch ? 30_000 : 5_000)
    this.#timer = setInterval(() => void this.refresh(), interval)
    this.#timer.unref()
    if (this.#options.services.watch) void this.#follow()
    return this.#loaded
  }

  /** Every tool, endpoints' first (by name), then the built-ins. */
  tools(): readonly ToolEntry[] {
    return this.#tools
  }

  /** The tool of this name, if any. */
  get(name: string): ToolEntry | undefined {
    return this.#byName.get(name)
  }

  /** Hear when the tools change; returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Read the services again. Reads never overlap: a refresh asked for during one runs once
   * after it, however many were asked for. A failed read keeps the tools as they were.
   */
  refresh(): Promise<void> {
    if (this.#running) {
      this.#dirty = true
      return this.#running
    }
    this.#running = (async () => {
      do {
        this.#dirty = false
        try {
          this.#rebuild(await this.#options.services.listServices(this.#options.namespace))
        } catch (error) {
          this.#options.logger?.warn('mcp: reading the services failed; the tools stay as they were', {
            error: (error as Error).message,
          })
        }
      } while (this.#dirty && !this.#stop.signal.aborted)
    })().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  /** Stop following the registry. */
  close(): void {
    this.#stop.abort()
    if (this.#timer) clearInterval(this.#timer)
    this.#listeners.clear()
  }

  #rebuild(services: readonly ServiceRecord[]): void {
    const include = this.#options.include ?? defaultInclude
    const builtins = this.#options.builtins ?? []
    // Per service, each endpoint once: the newest version that has it describes it.
    const endpoints = new Map<string, { service: string; record: EndpointRecord }>()
    const versions = [...services].sort((a, b) => b.version.localeCompare(a.version, 'en', { numeric: true }))
    for (const service of versions) {
      for (const record of service.endpoints ?? []) {
        const entry = { service: service.name, endpoint: record.name }
        if (!endpoints.has(key(entry)) && include(service.name, record))
          endpoints.set(key(entry), { service: service.name, record })
      }
    }
    const reserved = new Set(builtins.map((b) => b.tool.name))
    const names = assignToolNames(
      [...endpoints.values()].map((e) => ({ service: e.service, endpoint: e.record.name })),
      reserved,
    )
    const call = this.#options.client.call.bind(this.#options.client)
    const made = [...endpoints.entries()].map(([k, e]) =>
      endpointTool(names.get(k) as string, e.service, e.record, call),
    )
    made.sort((a, b) => (a.tool.name < b.tool.name ? -1 : a.tool.name > b.tool.name ? 1 : 0))
    const tools = [...made, ...builtins]
    const fingerprint = JSON.stringify(tools.map((t) => t.tool))
    if (fingerprint === this.#fingerprint) return
    const first = this.#fingerprint === ''
    this.#tools = tools
    this.#byName = new Map(tools.map((t) => [t.tool.name, t]))
    this.#fingerprint = fingerprint
    if (first) return
    for (const listener of this.#listeners) {
      try {
        listener()
      } catch (error) {
        this.#options.logger?.warn('mcp: a tools listener failed', { error: (error as Error).message })
      }
    }
  }

  /** Follow the watch, restarting it with back-off when it fails or ends. */
  async #follow(): Promise<void> {
    const watch = this.#options.services.watch
    if (!watch) return
    let backoff = 100
    while (!this.#stop.signal.aborted) {
      try {
        for await (const _ of watch.call(
          this.#options.services,
          this.#options.namespace,
          this.#stop.signal,
        )) {
          backoff = 100
          void this.refresh()
        }
      } catch (error) {
        if (this.#stop.signal.aborted) return
        this.#options.logger?.debug('mcp: the registry watch failed; restarting it', {
          error: (error as Error).message,
        })
      }
      if (this.#stop.signal.aborted) return
      await new Promise((resolve) => setTimeout(resolve, backoff).unref())
      backoff = Math.min(backoff * 2, 10_000)
      void this.refresh()
    }
  }
}
