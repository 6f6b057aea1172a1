import { dirname, sep } from 'node:path'
import { notFound, serviceUnavailable } from '../../errors/errors.js'
import { commandFor, defaultMicroCli } from '../runtime/command.js'
import type { Command } from '../runtime/instance.js'
import type { ResolvedSource } from '../runtime/source.js'
import { childEnv, fixedPort } from './env.js'
import { type DevHttpContext, type DevHttpServer, listenDevHttp, type MountHttp } from './http.js'
import { statusMount } from './mount.js'
import { stopLevels } from './order.js'
import { Printer } from './output.js'
import type { Plan, PlannedService } from './plan.js'
import { DevService } from './service.js'
import type { DevEvent, DevServiceStatus } from './types.js'
import { SourceWatcher, watchable } from './watch.js'

/** Options of a {@link DevLoop}. */
export interface DevLoopOptions {
  plan: Plan
  /** The working folder: messages show paths relative to it; without a project file, files under it are watched. */
  cwd: string
  namespace: string
  environment: string
  registry?: string
  registryAddress?: string
  /** What every service inherits. Default `process.env`. */
  baseEnv?: NodeJS.ProcessEnv
  /** Reload on changes. Default true. */
  watch?: boolean
  /** Where to serve the gateway (`host:port`); false: serve none. */
  address: string | false
  /** The gateway and dashboard; default {@link statusMount} (a JSON list of the services). */
  mountHttp?: MountHttp
  write?: (text: string) => void
  color?: boolean
  /** SIGTERM to SIGKILL, ms. Default 10 000. */
  stopTimeout?: number
  /** A start or a reload not ready by then failed, ms. Default 30 000. */
  readyTimeout?: number
  /** Quiet time before a batch of changes is acted on, ms. Default 100. */
  debounceMs?: number
  /** How to run the micro CLI (`node <these> run --inline <folder>`). Default this package's. */
  microCli?: string[]
}

/**
 * `micro run`'s dev loop: serves the gateway (unless told not to, or another process holds
 * the address), starts every service once its dependencies are ready, prints the URLs,
 * then watches the sources and hot-reloads each changed service with a safe swap. `stop()`
 * drains everything: dependents first, each process SIGTERM then SIGKILL after the stop
 * timeout.
 */
export class DevLoop {
  readonly #options: DevLoopOptions
  readonly #printer: Printer
  readonly #services: DevService[] = []
  readonly #listeners = new Set<(event: DevEvent) => void>()
  readonly #graphs = new Map<DevService, Set<string>>()
  #http: DevHttpServer | undefined
  #urls: { label: string; url: string }[] = []
  #watcher: SourceWatcher | undefined
  #stopping: Promise<void> | undefined
  #settled = new Set<DevService>()
  #bannerShown = false
  #startedAt = 0

  constructor(options: DevLoopOptions) {
    this.#options = options
    this.#printer = new Printer({
      write: options.write ?? ((t) => process.stdout.write(t)),
      color: options.color ?? false,
    })
  }

  /** `host:port` of this dev loop's gateway; undefined when it serves none. */
  get address(): string | undefined {
    return this.#http?.address
  }

  status(): DevServiceStatus[] {
    return this.#services.map((s) => s.status())
  }

  /** Every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: DevEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Serve, start every service in dependency order, then watch. Resolves once the starts are under way. */
  async start(): Promise<void> {
    const { plan, namespace, environment } = this.#options
    this.#startedAt = Date.now()
    this.#printer.setNames(['micro', ...plan.services.map((s) => s.spec.name)])
    const count = plan.services.length
    this.#printer.note(
      'micro',
      `running ${count} service${count === 1 ? '' : 's'} (environment ${environment}, namespace ${namespace}${plan.project ? `, ${plan.project.file}` : ''})`,
    )
    await this.#serve()
    const microCli = this.#options.microCli ?? defaultMicroCli()
    for (const planned of plan.services) this.#services.push(this.#service(planned, microCli))
    const byName = new Map(this.#services.map((s) => [s.name, s]))
    for (const service of this.#services) {
      const deps = service.spec.depends.map((d) => byName.get(d) as DevService)
      if (deps.length > 0) this.#printer.note(service.name, `waits for ${service.spec.depends.join(', ')}`)
      // Every process boots at once; each starts (registers) once its dependencies are ready.
      const gate =
        deps.length > 0 ? Promise.all(deps.map((d) => d.whenReady())).then(() => !this.#stopping) : undefined
      void service.start(gate).then(() => {
        this.#settled.add(service)
        this.#maybeBanner()
      })
    }
    if (this.#options.watch !== false) await this.#watch()
  }

  /**
   * Restart one service (the dashboard's button): a safe swap onto its code as it is now,
   * or a new start when it was stopped. Rejects for a name this dev loop does not run.
   */
  async restartService(name: string): Promise<void> {
    const service = this.#named(name)
    if (this.#stopping) throw serviceUnavailable('micro.run', 'micro run is stopping')
    await service.restart()
  }

  /** Stop one service's process; it stays listed as `stopped` (a restart starts it again). */
  async stopService(name: string): Promise<void> {
    const service = this.#named(name)
    this.#printer.note(name, 'stopping (asked for)')
    await service.stop()
    this.#printer.note(name, 'stopped')
  }

  #named(name: string): DevService {
    const service = this.#services.find((s) => s.name === name)
    if (!service) throw notFound('micro.run', `micro run runs no service ${name}`)
    return service
  }

  /** Drain: stop the watcher, every service (dependents first), then the gateway. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#watcher?.close()
      this.#printer.note('micro', 'stopping')
      for (const level of stopLevels(
        this.#services.map((s) => ({ name: s.name, depends: s.spec.depends, s })),
      )) {
        await Promise.all(level.map(({ s }) => s.stop()))
      }
      await this.#http?.close()
      this.#printer.note('micro', 'stopped')
    })()
    return this.#stopping
  }

  /** Kill every process now (a second Ctrl-C). */
  kill(): void {
    for (const service of this.#services) service.kill()
  }

  async #serve(): Promise<void> {
    const { address } = this.#options
    if (address === false) return
    const bound = await listenDevHttp(address)
    if ('taken' in bound) {
      this.#printer.note(
        'micro',
        `${address} is in use (another micro run or micro server?): services are reachable through it`,
      )
      return
    }
    this.#http = bound
    const context: DevHttpContext = {
      address: bound.address,
      namespace: this.#options.namespace,
      environment: this.#options.environment,
      ...(this.#options.registry ? { registry: this.#options.registry } : {}),
      ...(this.#options.registryAddress ? { registryAddress: this.#options.registryAddress } : {}),
      services: () => this.status(),
      subscribe: (listener) => this.subscribe(listener),
      restart: (name) => this.restartService(name),
      stop: (name) => this.stopService(name),
    }
    const mounted = Promise.resolve((this.#options.mountHttp ?? statusMount)(context))
    bound.mount(mounted)
    this.#urls = (await mounted).urls ?? [{ label: 'Gateway', url: `http://${bound.address}` }]
  }

  #service(planned: PlannedService, microCli: string[]): DevService {
    const { spec, source, kinds } = planned
    const env = childEnv(spec, {
      base: this.#options.baseEnv ?? process.env,
      namespace: this.#options.namespace,
      environment: this.#options.environment,
      ...(this.#options.registry ? { registry: this.#options.registry } : {}),
      ...(this.#options.registryAddress ? { registryAddress: this.#options.registryAddress } : {}),
      ...(this.#http ? { gateway: this.#http.address } : {}),
    })
    const port = fixedPort(spec, kinds, env)
    const service: DevService = new DevService({
      spec,
      source,
      commandFor: (current: ResolvedSource, bundle?: string): Command => {
        if (bundle) return bundleCommand(current, bundle, env, microCli, spec.config)
        const command = commandFor(current, {
          namespace: this.#options.namespace,
          baseEnv: env,
          env: {},
          microCli,
        })
        // --config: the folder runs with another toml (resolved as the source, so swap it back).
        if (spec.config) command.args.splice(-1, 1, '--config', spec.config, spec.source)
        return command
      },
      ...(port !== undefined ? { fixedPort: port } : {}),
      printer: this.#printer,
      emit: (event) => this.#emit(event),
      onFiles: (files) => this.#follow(service, files),
      cwd: this.#options.cwd,
      stopTimeout: this.#options.stopTimeout ?? 10_000,
      readyTimeout: this.#options.readyTimeout ?? 30_000,
    })
    return service
  }

  async #watch(): Promise<void> {
    const watcher = new SourceWatcher({
      debounceMs: this.#options.debounceMs ?? 100,
      onChange: (files) => this.#changed(files),
      onWarning: (message) => this.#printer.note('micro', message),
    })
    this.#watcher = watcher
    for (const service of this.#services) await watcher.addTree(this.#dirOf(service))
  }

  /** Files a service imports from outside its folder: watch them too. */
  #follow(service: DevService, files: string[]): void {
    const root = this.#options.plan.project ? dirname(this.#options.plan.project.file) : this.#options.cwd
    const own = this.#dirOf(service)
    const outside = files.filter((f) => !f.startsWith(own + sep) && watchable(f, root))
    this.#graphs.set(service, new Set(outside))
    for (const file of outside) this.#watcher?.addFile(file)
  }

  #changed(files: string[]): void {
    const byService = new Map<DevService, string[]>()
    for (const file of files) {
      const owner = this.#ownerOf(file)
      const users = this.#services.filter((s) => s === owner || this.#graphs.get(s)?.has(file))
      for (const service of users) byService.set(service, [...(byService.get(service) ?? []), file])
    }
    for (const [service, changed] of byService) void service.reload(changed)
  }

  /** The service whose folder holds `file` (the deepest one, when folders nest). */
  #ownerOf(file: string): DevService | undefined {
    let best: DevService | undefined
    for (const service of this.#services) {
      const dir = this.#dirOf(service)
      if (file.startsWith(dir + sep) && (!best || dir.length > this.#dirOf(best).length)) best = service
    }
    return best
  }

  #dirOf(service: DevService): string {
    const planned = this.#options.plan.services.find((p) => p.spec.name === service.name)
    return planned?.source.cwd ?? service.spec.source
  }

  #maybeBanner(): void {
    if (this.#bannerShown || this.#stopping) return
    const blocked = (s: DevService): boolean =>
      !this.#settled.has(s) && s.spec.depends.some((d) => this.#isDown(d))
    if (!this.#services.every((s) => this.#settled.has(s) || blocked(s))) return
    this.#bannerShown = true
    const ready = this.#services.filter((s) => s.state === 'ready')
    const lines = [
      '',
      `  ${ready.length} of ${this.#services.length} ready in ${Date.now() - this.#startedAt} ms`,
    ]
    // One first column for labels and names, as wide as the longest (`notifications` is 13).
    const width = Math.max(12, ...this.#services.map((s) => s.name.length))
    for (const { label, url } of this.#urls) lines.push(`  ${label.padEnd(width)} ${url}`)
    for (const service of this.#services) {
      const status = service.status()
      const what = status.serving ?? (status.state === 'ready' ? 'running' : status.state)
      lines.push(`  ${service.name.padEnd(width)} ${status.version.padEnd(8)} ${what}`)
    }
    lines.push(
      '',
      this.#options.watch === false
        ? '  Ctrl-C stops everything.'
        : '  Watching for changes; Ctrl-C stops everything.',
      '',
    )
    this.#printer.plain(lines.join('\n'))
    // After the start, so checks do not slow it: type errors show as warnings, and the
    // files each service imports from elsewhere get watched.
    if (this.#options.watch !== false) void this.#checkAll()
  }

  async #checkAll(): Promise<void> {
    for (const service of this.#services) {
      if (this.#stopping) return
      await service.checkInBackground()
    }
  }

  #isDown(name: string): boolean {
    const service = this.#services.find((s) => s.name === name)
    if (!service) return false
    return (
      (this.#settled.has(service) && service.state !== 'ready') ||
      service.spec.depends.some((d) => this.#isDown(d))
    )
  }

  #emit(event: DevEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

/**
 * The process of a service whose TypeScript the dev loop bundled: `micro run --inline
 * --config <its toml> <bundle>` (the bundle is the entry module; the folder stays the
 * working folder), or `node <bundle>` for a module without a toml. Stack traces point at
 * the TypeScript through the bundle's source map (MICRO_SOURCE_MAPS).
 */
function bundleCommand(
  source: ResolvedSource,
  bundle: string,
  env: NodeJS.ProcessEnv,
  microCli: string[],
  config: string | undefined,
): Command {
  const args =
    source.kind === 'definition'
      ? [...microCli, 'run', '--inline', '--config', config ?? source.file, bundle]
      : ['--enable-source-maps', bundle]
  return {
    file: process.execPath,
    args,
    cwd: source.cwd,
    env: { ...env, MICRO_SOURCE_MAPS: '1' },
    readiness: source.kind === 'definition' && !source.scriptOnly ? 'signal' : 'alive',
    version: source.version,
  }
}
