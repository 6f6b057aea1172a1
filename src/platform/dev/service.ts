import { relative } from 'node:path'
import { type Command, describeExit } from '../runtime/instance.js'
import { signalGroup } from '../runtime/proc.js'
import { type ResolvedSource, resolveSource } from '../runtime/source.js'
import { Supervisor } from '../runtime/supervisor.js'
import { type BuildOutcome, SourceChecker, type TypeOutcome } from './check.js'
import { FailureReport } from './failure.js'
import type { Printer } from './output.js'
import { Readiness, type StartOutcome } from './readiness.js'
import { ServiceOutput } from './service-output.js'
import type { DevEvent, DevServiceSpec, DevServiceState, DevServiceStatus } from './types.js'

/** What a {@link DevService} needs from the dev loop. */
export interface DevServiceOptions {
  spec: DevServiceSpec
  source: ResolvedSource
  /** The command of a process of this source, or of its bundle when one was built (the dev loop builds it: env, CLI path). */
  commandFor(source: ResolvedSource, bundle?: string): Command
  /** A port it always listens on: the new version cannot start next to the old one. */
  fixedPort?: number
  printer: Printer
  emit(event: DevEvent): void
  /** Local files the service imports, after each successful check (the watcher follows them). */
  onFiles(files: string[]): void
  /** The dev loop's working folder (paths in messages are relative to it). */
  cwd: string
  stopTimeout: number
  readyTimeout: number
}

/**
 * One service of the dev loop: a Supervisor of one process, and its hot reload. A reload
 * checks the code first (syntax and local imports, and types with a tsconfig), then
 * starts the new version next to the old one and stops the old one only once the new one
 * is ready (registered). A check that fails, or a new version that exits or is not ready,
 * leaves the old one serving; the error is printed once, however often it is saved.
 */
export class DevService {
  readonly name: string
  readonly spec: DevServiceSpec
  readonly #options: DevServiceOptions
  readonly #checker: SourceChecker
  readonly #failures: FailureReport
  #source: ResolvedSource
  #supervisor: Supervisor | undefined
  #state: DevServiceState = 'waiting'
  readonly #output: ServiceOutput
  #readyPid: number | undefined
  #reloads = 0
  #restartsBefore = 0
  #startedAt = 0
  /** The bundle the serving process runs (undefined: it runs the source). */
  #bundle: string | undefined
  /** The first start's gate (its dependencies ready). */
  #gate: Promise<boolean> | undefined
  #reloading: Promise<void> | undefined
  #again: string[] | undefined
  /** During a reload: the new process, until it takes over. */
  #candidate: Candidate | undefined
  readonly #readiness = new Readiness()

  constructor(options: DevServiceOptions) {
    this.#options = options
    this.spec = options.spec
    this.name = options.spec.name
    this.#source = options.source
    this.#checker = new SourceChecker(options.spec.name, {
      cwd: options.cwd,
      note: (line) => options.printer.note(this.name, line),
    })
    this.#failures = new FailureReport(options.printer, this.name)
    this.#output = new ServiceOutput(this.name, options.printer, options.emit)
  }

  get state(): DevServiceState {
    return this.#state
  }

  /** Resolves the first time the service is ready (a script: once it has exited with 0). */
  whenReady(): Promise<void> {
    return this.#readiness.whenReady()
  }

  /**
   * Start the first process; resolves with its first outcome (ready, or how it ended).
   * With `gate`, the process boots and loads at once but starts only once the gate
   * resolves true (its dependencies are ready).
   */
  start(gate?: Promise<boolean>): Promise<StartOutcome> {
    this.#startedAt = Date.now()
    gate?.then(() => {
      this.#startedAt = Date.now()
    })
    this.#gate = gate
    this.#state = gate ? 'waiting' : 'starting'
    gate?.then((open) => {
      if (open && this.#state === 'waiting') this.#state = 'starting'
    })
    const outcome = this.#readiness.next()
    void this.#build().then((built) => {
      if (this.#stopped) return
      if (!built) {
        this.#state = 'failed'
        this.#readiness.settle({
          code: null,
          signal: null,
          at: new Date().toISOString(),
          reason: 'the code does not compile',
        })
        return
      }
      this.#bundle = built.bundle
      this.#launch({ ...this.#options.commandFor(this.#source, built.bundle), ...(gate ? { gate } : {}) })
    })
    return outcome
  }

  /** Check the source; print what is wrong as a warning (the running version is not touched). */
  async checkInBackground(): Promise<void> {
    const outcome = await this.#checker.check(this.#source).catch(() => undefined)
    if (!outcome) return
    this.#options.onFiles(outcome.files)
    if (!outcome.ok)
      this.#failures.report(
        `${this.#describeCheckFailure(outcome.failed)} (it runs; a reload needs this fixed)`,
        outcome.error,
      )
  }

  /**
   * Reload after `files` changed. A reload asked for while one runs is done after it,
   * once, with everything that changed meanwhile.
   */
  reload(files: string[]): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return Promise.resolve()
    if (this.#state === 'waiting') {
      // Its process has loaded the old code while it waits: load the new code instead.
      return this.#relaunch().catch((error: Error) => this.#failures.report('reload failed', error.message))
    }
    if (this.#reloading) {
      this.#again = [...(this.#again ?? []), ...files]
      return this.#reloading
    }
    this.#reloading = (async () => {
      let changed: string[] | undefined = files
      while (changed && !this.#stopped) {
        this.#again = undefined
        await this.#reloadOnce(changed).catch((error: Error) =>
          this.#failures.report('reload failed', error.message),
        )
        changed = this.#again
      }
    })().finally(() => {
      this.#reloading = undefined
    })
    return this.#reloading
  }

  status(): DevServiceStatus {
    const supervised = this.#supervisor?.status()
    const instance = supervised?.instances[0]
    return {
      name: this.name,
      source: this.spec.source,
      state: this.#state,
      version: this.#source.version,
      ...(this.#readyPid && this.#output.serving.has(this.#readyPid)
        ? { serving: this.#output.serving.get(this.#readyPid) }
        : {}),
      ...(instance?.pid ? { pid: instance.pid } : {}),
      ...(instance?.startedAt ? { startedAt: Date.parse(instance.startedAt) } : {}),
      restarts: this.#restartsBefore + (supervised?.restarts ?? 0),
      reloads: this.#reloads,
      ...(instance?.state === 'crash-loop' ? { crashLoop: true } : {}),
      ...(instance?.lastExit ? { lastExitCode: instance.lastExit.code } : {}),
      ...(this.#failures.current ? { error: this.#failures.current } : {}),
    }
  }

  /**
   * Restart on request (the dashboard's button): the code as it is now, with the same
   * safe swap as a reload (the old process serves until the new one is ready; a failure
   * leaves it serving). A stopped service starts again. Resolves once it is done.
   */
  async restart(): Promise<void> {
    if (this.#state === 'stopping') throw new Error(`${this.name} is stopping`)
    if (this.#state === 'stopped') {
      this.#options.printer.note(this.name, 'starting (asked for)')
      this.#source = await resolveSource(this.spec.config ?? this.spec.source)
      // Its dependencies were ready once; it does not wait for them again.
      this.#gate = undefined
      this.#restartsBefore += this.#supervisor?.status().restarts ?? 0
      await this.start()
      return
    }
    await this.reload([])
  }

  /** Stop its process gracefully (SIGTERM, SIGKILL after the stop timeout). */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    this.#state = 'stopping'
    await this.#supervisor?.stop()
    this.#state = 'stopped'
    this.#readyPid = undefined
    await this.#checker.prune()
  }

  /** Kill its processes now (a second Ctrl-C). */
  kill(): void {
    for (const proc of this.#supervisor?.processes() ?? []) signalGroup(proc.pid, 'SIGKILL')
  }

  get #stopped(): boolean {
    return this.#state === 'stopping' || this.#state === 'stopped'
  }

  async #reloadOnce(files: string[]): Promise<void> {
    const startedAt = Date.now()
    const shown = files.map((f) => relative(this.#options.cwd, f) || f).slice(0, 3)
    const more = files.length > 3 ? ` and ${files.length - 3} more` : ''
    this.#options.printer.note(
      this.name,
      files.length > 0 ? `${shown.join(', ')}${more} changed: reloading` : 'restarting (asked for)',
    )
    this.#source = await resolveSource(this.spec.config ?? this.spec.source)
    const built = await this.#build()
    if (!built || this.#stopped) return
    const typing = this.#checker
      .typeCheck(this.#source)
      .catch((error: Error): TypeOutcome => ({ ok: false, ran: true, error: error.message }))
    const command = this.#options.commandFor(this.#source, built.bundle)
    const supervisor = this.#supervisor
    if (!supervisor || this.#options.fixedPort !== undefined || this.#source.scriptOnly) {
      if (await this.#typed(typing)) await this.#restart(command, startedAt, built.bundle)
      return
    }
    // The new process boots and loads while the types are checked; it starts (registers)
    // only if they pass, else it is told not to start and exits.
    const before = supervisor.status().instances[0]
    const servingPid = before?.state === 'running' ? before.pid : undefined
    const candidate: Candidate = { servingPid, startedAt, swapped: false }
    this.#candidate = candidate
    this.#output.hold(servingPid)
    this.#state = 'reloading'
    const gate = typing.then((t) => t.ok && !this.#stopped)
    const updating = supervisor.update({ ...command, gate })
    updating.catch(() => {})
    try {
      if (!(await this.#typed(typing))) {
        await updating.catch(() => {})
        return
      }
      await updating
      this.#bundle = built.bundle
    } catch (error) {
      const detail = [...this.#output.drop().slice(-30), (error as Error).message].join('\n')
      this.#candidate = undefined
      this.#state = servingPid ? 'ready' : 'failed'
      this.#fail('the new version did not start', detail)
      return
    } finally {
      this.#output.settled()
      if (this.#candidate === candidate) {
        this.#candidate = undefined
        if (this.#state === 'reloading') this.#state = servingPid ? 'ready' : 'failed'
      }
      // Only the bundle the service now runs (and restarts with) is kept.
      await this.#checker.prune([this.#bundle])
    }
    if (!candidate.swapped) this.#swapped(candidate)
  }

  /** Build the current source (a failure is reported): its outcome, undefined when it does not compile. */
  async #build(): Promise<BuildOutcome | undefined> {
    const built = await this.#checker
      .build(this.#source, { bundle: true })
      .catch((error: Error): BuildOutcome => ({ ok: false, built: true, error: error.message, files: [] }))
    this.#options.onFiles(built.files)
    if (built.ok) return built
    this.#fail('the code does not compile', built.error)
    return undefined
  }

  /** Whether the type check passed; a failure is reported. */
  async #typed(typing: Promise<TypeOutcome>): Promise<boolean> {
    const typed = await typing
    if (this.#stopped) return false
    if (typed.ok) return true
    this.#fail('the code does not type-check', typed.error)
    return false
  }

  /** The new process is ready and takes over: its output so far, then the reloaded line. */
  #swapped(candidate: Candidate): void {
    candidate.swapped = true
    this.#candidate = undefined
    this.#output.release()
    this.#reloaded(candidate.startedAt, candidate.servingPid)
  }

  /** A service that cannot run twice at once: stop the old process, then start the new one. */
  async #restart(command: Command, startedAt: number, bundle: string | undefined): Promise<void> {
    const old = this.#supervisor
    this.#restartsBefore += old?.status().restarts ?? 0
    const servingPid = this.#readyPid
    this.#state = 'reloading'
    await old?.stop()
    if (this.#stopped) return
    const outcome = this.#readiness.next()
    // Held by the first start's gate too: fixed before its dependencies are ready, it waits.
    this.#launch({ ...command, ...(this.#gate ? { gate: this.#gate } : {}) })
    const result = await outcome
    this.#bundle = bundle
    await this.#checker.prune([bundle])
    if (result === 'ready' || this.#source.scriptOnly) {
      this.#reloaded(startedAt, servingPid)
      return
    }
    const why =
      this.#options.fixedPort !== undefined
        ? ` (port ${this.#options.fixedPort} is fixed: the old version was stopped first)`
        : ''
    this.#fail(`the new version did not start${why}`, `exited (${describeExit(result)})`)
  }

  #reloaded(startedAt: number, oldPid: number | undefined): void {
    this.#reloads++
    this.#failures.clear()
    const pid = this.#supervisor?.status().instances[0]?.pid
    this.#readyPid = pid
    if (this.#state === 'reloading') this.#state = 'ready'
    const ms = Date.now() - startedAt
    const serving = pid ? this.#output.serving.get(pid) : undefined
    const swap = oldPid && pid ? ` (pid ${oldPid} -> ${pid})` : ''
    this.#options.printer.note(this.name, `reloaded in ${ms} ms${serving ? `: ${serving}` : ''}${swap}`)
    this.#options.emit({ type: 'reloaded', service: this.name, ms, ...(pid ? { pid } : {}) })
    this.#readiness.ready()
  }

  #fail(headline: string, detail: string | undefined): void {
    const serving = this.#readyPid !== undefined && this.#state !== 'failed'
    this.#failures.report(
      `${headline}; ${serving ? 'the old version keeps serving' : 'nothing of it is serving'}`,
      detail,
    )
    this.#options.emit({
      type: 'reload-failed',
      service: this.name,
      error: this.#failures.current ?? headline,
    })
  }

  #describeCheckFailure(failed: 'syntax' | 'types' | undefined): string {
    return failed === 'types' ? 'the code does not type-check' : 'the code does not compile'
  }

  /** A service still waiting for its dependencies: replace its held process by one of the current code. */
  async #relaunch(): Promise<void> {
    const old = this.#supervisor
    if (!old) return // its first build is under way: it reads the files as they are now
    this.#source = await resolveSource(this.spec.config ?? this.spec.source)
    const built = await this.#build()
    if (!built || this.#stopped || this.#supervisor !== old) return
    this.#bundle = built.bundle
    this.#launch({
      ...this.#options.commandFor(this.#source, built.bundle),
      ...(this.#gate ? { gate: this.#gate } : {}),
    })
    await old.stop()
    await this.#checker.prune([this.#bundle])
  }

  #launch(command: Command): void {
    const supervisor = new Supervisor({
      command,
      instances: 1,
      restart: this.#source.scriptOnly ? 'never' : 'always',
      stopTimeout: this.#options.stopTimeout,
      readyTimeout: this.#options.readyTimeout,
      onLog: (record) => this.#output.record(record),
      onChange: () => this.#onChange(supervisor),
    })
    this.#supervisor = supervisor
    supervisor.start()
  }

  #onChange(supervisor: Supervisor): void {
    if (supervisor !== this.#supervisor) return
    const instance = supervisor.status().instances[0]
    if (!instance) return
    const candidate = this.#candidate
    if (candidate && instance.state === 'running' && instance.pid !== candidate.servingPid) {
      this.#swapped(candidate)
      return
    }
    // A script is ready (for what depends on it) once it has run to the end without error.
    const scriptDone = this.#source.scriptOnly && instance.state === 'exited' && instance.lastExit?.code === 0
    if (scriptDone) {
      this.#readiness.settle('ready')
      if (this.#state === 'reloading' || this.#state === 'ready') return
      this.#state = 'ready'
      this.#options.printer.note(this.name, `finished in ${Date.now() - this.#startedAt} ms`)
      this.#options.emit({ type: 'ready', service: this.name })
      this.#readiness.ready()
      return
    }
    if (instance.state === 'running') {
      if (this.#source.scriptOnly) return // running, not done
      this.#readiness.settle('ready')
      if (this.#state === 'reloading' || instance.pid === this.#readyPid) return
      this.#readyPid = instance.pid
      this.#state = 'ready'
      const serving = instance.pid ? this.#output.serving.get(instance.pid) : undefined
      const ms = Date.now() - this.#startedAt
      this.#options.printer.note(this.name, `ready in ${ms} ms${serving ? `: ${serving}` : ''}`)
      this.#options.emit({
        type: 'ready',
        service: this.name,
        ...(serving ? { serving } : {}),
        ...(instance.pid ? { pid: instance.pid } : {}),
      })
      this.#readiness.ready()
      return
    }
    const exited = ['backoff', 'crash-loop', 'exited'].includes(instance.state) && instance.lastExit
    if (exited && instance.lastExit) {
      this.#readiness.settle(instance.lastExit)
      if (this.#state !== 'reloading' && !this.#stopped) {
        this.#state = 'failed'
        this.#readyPid = undefined
        this.#options.emit({ type: 'exited', service: this.name, detail: describeExit(instance.lastExit) })
      }
    }
  }
}

/** A reload's new process while it starts. */
interface Candidate {
  /** The process serving when the reload began (its lines are shown as they come). */
  servingPid: number | undefined
  startedAt: number
  swapped: boolean
}
