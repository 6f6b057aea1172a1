import { type BackoffOptions, backoffSettings, CrashBackoff } from './backoff.js'
import { type Command, describeExit, InstanceProcess, type OutputLine } from './instance.js'
import type { ExitInfo, InstanceState, InstanceStatus, LogRecord, ServiceState } from './types.js'

/** When an instance that exited on its own is started again. */
export type RestartPolicy = 'always' | 'on-failure' | 'never'

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions {
  command: Command
  /** Processes to keep running. */
  instances: number
  /** Default `always` (a service is meant to run): `on-failure` leaves a clean exit (code 0) be. */
  restart?: RestartPolicy
  backoff?: BackoffOptions
  /** How long a stop waits after SIGTERM before SIGKILL, ms. Default 10 000. */
  stopTimeout?: number
  /** How long a start may take to become ready, ms; past it the process is stopped (a crash). Default 60 000. */
  readyTimeout?: number
  /** For `alive` readiness: up this long (ms) counts as ready. Default 1000. */
  readyAfter?: number
  /** Restart counts per slot to start from (a runtime restored from its store). */
  restarts?: number[]
  /** Every line of output, and the supervisor's own notes (stream `runtime`). */
  onLog?(record: LogRecord): void
  /** Something changed: a process started, became ready, exited, was replaced. */
  onChange?(): void
}

/** What {@link Supervisor.status} reports. */
export interface SupervisorStatus {
  state: ServiceState
  /** ms since the epoch when `state` began. */
  since: number
  instances: InstanceStatus[]
  restarts: number
  running: number
  /** ms the longest-running current process has been up. */
  uptime: number
  /** The last failed update, until the next update. */
  error?: string
}

interface Slot {
  index: number
  command: Command
  proc?: InstanceProcess
  state: InstanceState
  restarts: number
  backoff: CrashBackoff
  lastExit?: ExitInfo
  /** Pending restart, ready deadline, or crash-count reset. */
  timers: Set<NodeJS.Timeout>
  retiring: boolean
}

/**
 * Keeps N processes of one command running: starts them, restarts one that exits with
 * an exponential back-off (a crash loop keeps retrying at the longest delay), stops them
 * gracefully, and rolls them onto a new command one at a time, each new process ready
 * before the old one stops. The runtime (`micro run -d`) and the dev loop (`micro run`)
 * both build on it.
 */
export class Supervisor {
  readonly #options: SupervisorOptions
  readonly #backoff: Required<BackoffOptions>
  readonly #stopTimeout: number
  readonly #readyTimeout: number
  #command: Command
  #slots: Slot[] = []
  /** New processes of an update that are not in a slot yet. */
  readonly #surge = new Set<InstanceProcess>()
  #state: ServiceState = 'starting'
  #since = Date.now()
  #stopped = false
  #updating = false
  #error: string | undefined
  #waiters: (() => void)[] = []

  constructor(options: SupervisorOptions) {
    if (!Number.isInteger(options.instances) || options.instances < 1) {
      throw new TypeError('a supervisor needs at least one instance')
    }
    this.#options = options
    this.#backoff = backoffSettings(options.backoff)
    this.#stopTimeout = options.stopTimeout ?? 10_000
    this.#readyTimeout = options.readyTimeout ?? 60_000
    this.#command = options.command
  }

  /** The command new and restarted processes run (the new one once an update has succeeded). */
  get command(): Command {
    return this.#command
  }

  /** Start every instance (not waiting for them to be ready). */
  start(): void {
    if (this.#slots.length > 0 || this.#stopped) return
    for (let i = 1; i <= this.#options.instances; i++) {
      const slot = this.#newSlot(i, this.#command)
      slot.restarts = this.#options.restarts?.[i - 1] ?? 0
      this.#slots.push(slot)
      this.#launch(slot)
    }
  }

  /** Resolves the next time every instance is running (at once if they are). */
  whenRunning(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  /** Every live process (slots and an update's new ones): what to find again after a runtime restart. */
  processes(): InstanceProcess[] {
    const live = this.#slots.flatMap((s) => (s.proc && !s.proc.exit ? [s.proc] : []))
    return [...live, ...[...this.#surge].filter((p) => !p.exit)]
  }

  status(): SupervisorStatus {
    const instances = this.#slots.map((slot) => this.#instanceStatus(slot))
    const running = instances.filter((i) => i.state === 'running')
    return {
      state: this.#state,
      since: this.#since,
      instances,
      restarts: instances.reduce((sum, i) => sum + i.restarts, 0),
      running: running.length,
      uptime: Math.max(0, ...running.map((i) => i.uptime ?? 0)),
      ...(this.#error ? { error: this.#error } : {}),
    }
  }

  /**
   * Roll every instance onto `command` (and to `instances` processes), one at a time: a
   * new process starts, becomes ready, then the old one stops. When a new process does
   * not become ready (exits, or `readyTimeout` passes), it is stopped, the instances
   * already replaced are rolled back the same way, and this rejects with the reason.
   */
  async update(command: Command, instances = this.#slots.length): Promise<void> {
    if (this.#stopped) throw new Error('the supervisor is stopped')
    if (this.#updating) throw new Error('an update is already in progress')
    if (!Number.isInteger(instances) || instances < 1) throw new TypeError('instances must be at least 1')
    this.#updating = true
    this.#error = undefined
    this.#changed()
    const previous = this.#command
    const before = this.#slots.length
    const replaced: Slot[] = []
    try {
      for (const slot of this.#slots.slice(0, instances)) {
        await this.#replace(slot, command)
        replaced.push(slot)
      }
      for (let i = before + 1; i <= instances; i++) {
        const slot = this.#newSlot(i, command)
        this.#slots.push(slot)
        await this.#replace(slot, command)
      }
      const surplus = this.#slots.slice(instances)
      this.#slots = this.#slots.slice(0, instances)
      this.#command = command
      await Promise.all(surplus.map((slot) => this.#retire(slot)))
    } catch (error) {
      const reason = (error as Error).message
      this.#note(0, `update failed: ${reason}; rolling back`)
      const added = this.#slots.slice(before)
      this.#slots = this.#slots.slice(0, before)
      await Promise.all(added.map((slot) => this.#retire(slot)))
      for (const slot of replaced.reverse()) {
        await this.#replace(slot, previous).catch((e: Error) => {
          this.#note(slot.index, `roll back failed: ${e.message}`)
        })
      }
      this.#error = `update failed: ${reason}`
      throw error
    } finally {
      this.#updating = false
      this.#changed()
    }
  }

  /** Stop every instance (SIGTERM, SIGKILL after stopTimeout); nothing is restarted after. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#changed()
    await Promise.all([
      ...this.#slots.map((slot) => this.#retire(slot)),
      ...[...this.#surge].map((p) => p.stop(this.#stopTimeout)),
    ])
    this.#changed()
  }

  #newSlot(index: number, command: Command): Slot {
    return {
      index,
      command,
      state: 'starting',
      restarts: 0,
      backoff: new CrashBackoff(this.#backoff),
      timers: new Set(),
      retiring: false,
    }
  }

  #spawn(index: number, command: Command): InstanceProcess {
    const proc = new InstanceProcess(command, {
      readyAfter: this.#options.readyAfter ?? 1000,
      onLine: (line: OutputLine) => this.#log(index, line),
    })
    if (proc.pid) this.#note(index, `started pid ${proc.pid} (${command.version})`, proc.pid)
    return proc
  }

  #launch(slot: Slot): void {
    this.#clearTimers(slot)
    if (this.#stopped || slot.retiring) return
    this.#attach(slot, this.#spawn(slot.index, slot.command))
  }

  /** Make `proc` the slot's process: watch its readiness and its exit. */
  #attach(slot: Slot, proc: InstanceProcess): void {
    slot.proc = proc
    // An update's new process is ready already: the slot never counts as starting.
    slot.state = proc.isReady ? 'running' : 'starting'
    // The time to become ready counts from when the process may start (its gate opens).
    const armReadyTimeout = () => {
      if (slot.proc !== proc || proc.isReady || proc.exit) return
      this.#later(slot, this.#readyTimeout, () => {
        if (slot.proc === proc && !proc.isReady) {
          void proc.stop(this.#stopTimeout, `not ready within ${this.#readyTimeout} ms`)
        }
      })
    }
    if (proc.command.gate) proc.command.gate.then(armReadyTimeout, armReadyTimeout)
    else armReadyTimeout()
    proc.ready.then(
      () => {
        if (slot.proc !== proc || proc.exit) return
        this.#clearTimers(slot)
        slot.state = 'running'
        // Up long enough: its next crash is not part of a crash loop.
        this.#later(slot, Math.max(0, this.#backoff.resetAfter - proc.uptime), () => {
          slot.backoff.reset()
          this.#changed()
        })
        this.#changed()
      },
      () => {},
    )
    proc.exited.then((exit) => this.#onExit(slot, proc, exit))
    this.#changed()
  }

  #onExit(slot: Slot, proc: InstanceProcess, exit: ExitInfo): void {
    if (slot.proc !== proc) return // replaced by an update: its stop was asked for
    this.#clearTimers(slot)
    slot.lastExit = exit
    if (this.#stopped || slot.retiring) {
      slot.state = 'stopped'
      this.#changed()
      return
    }
    const policy = this.#options.restart ?? 'always'
    if (policy === 'never' || (policy === 'on-failure' && exit.code === 0)) {
      slot.state = 'exited'
      this.#note(slot.index, `exited (${describeExit(exit)}); not restarted (restart: ${policy})`, proc.pid)
      this.#changed()
      return
    }
    slot.restarts++
    const delay = slot.backoff.crashed(proc.uptime)
    slot.state = slot.backoff.crashLooping ? 'crash-loop' : 'backoff'
    const loop = slot.backoff.crashLooping ? ' (crash loop)' : ''
    this.#note(slot.index, `exited (${describeExit(exit)}); restarting in ${delay} ms${loop}`, proc.pid)
    this.#later(slot, delay, () => this.#launch(slot))
    this.#changed()
  }

  /** Start a process of `command` for the slot, wait until it is ready, then stop the slot's old one. */
  async #replace(slot: Slot, command: Command): Promise<void> {
    if (this.#stopped) throw new Error('the supervisor is stopping')
    const next = this.#spawn(slot.index, command)
    this.#surge.add(next)
    try {
      await command.gate?.catch(() => false)
      await readyWithin(next, this.#readyTimeout)
      if (this.#stopped) throw new Error('the supervisor is stopping')
    } catch (error) {
      const reason = (error as Error).message
      await next.stop(this.#stopTimeout, reason)
      throw new Error(`instance ${slot.index} (${command.version}) ${reason}`)
    } finally {
      this.#surge.delete(next)
    }
    const old = slot.proc
    this.#clearTimers(slot)
    slot.command = command
    slot.backoff.reset()
    this.#attach(slot, next)
    if (old && !old.exit) {
      this.#note(slot.index, `replaced pid ${old.pid} by pid ${next.pid}`, next.pid)
      await old.stop(this.#stopTimeout)
    }
  }

  async #retire(slot: Slot): Promise<void> {
    slot.retiring = true
    this.#clearTimers(slot)
    const proc = slot.proc
    if (proc && !proc.exit) {
      slot.state = 'stopping'
      this.#changed()
      await proc.stop(this.#stopTimeout)
    }
    slot.state = 'stopped'
  }

  #instanceStatus(slot: Slot): InstanceStatus {
    const proc = slot.proc
    const alive = proc !== undefined && proc.exit === undefined
    const looping = slot.backoff.crashLooping && slot.state !== 'running' && slot.state !== 'stopped'
    return {
      instance: slot.index,
      state: looping && !slot.retiring ? 'crash-loop' : slot.state,
      ...(alive
        ? { pid: proc.pid, startedAt: new Date(proc.startedAt).toISOString(), uptime: proc.uptime }
        : {}),
      restarts: slot.restarts,
      ...(slot.lastExit ? { lastExit: slot.lastExit } : {}),
      version: slot.command.version,
    }
  }

  /** The service's state: the worst of its instances'. */
  #summary(): ServiceState {
    const states = this.#slots.map((slot) => this.#instanceStatus(slot).state)
    if (this.#stopped) return states.every((s) => s === 'stopped') ? 'stopped' : 'stopping'
    if (this.#updating) return 'updating'
    if (this.#slots.some((slot) => slot.backoff.crashLooping)) return 'crash-loop'
    if (states.includes('backoff')) return 'restarting'
    if (states.includes('starting')) return 'starting'
    if (states.includes('running')) return 'running'
    return states.every((s) => s === 'exited') ? 'exited' : 'stopped'
  }

  #changed(): void {
    const state = this.#summary()
    if (state !== this.#state) {
      this.#state = state
      this.#since = Date.now()
    }
    if (state === 'running' && this.#waiters.length > 0) {
      const waiters = this.#waiters
      this.#waiters = []
      for (const resolve of waiters) resolve()
    }
    this.#options.onChange?.()
  }

  #later(slot: Slot, ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      slot.timers.delete(timer)
      fn()
    }, ms)
    slot.timers.add(timer)
  }

  #clearTimers(slot: Slot): void {
    for (const timer of slot.timers) clearTimeout(timer)
    slot.timers.clear()
  }

  #log(instance: number, line: OutputLine): void {
    const { pid, stream } = line
    this.#options.onLog?.({ time: new Date().toISOString(), instance, pid, stream, line: line.line })
  }

  #note(instance: number, line: string, pid = 0): void {
    this.#options.onLog?.({ time: new Date().toISOString(), instance, pid, stream: 'runtime', line })
  }
}

/** Resolves when `proc` is ready; rejects when it exits first or `ms` pass. */
function readyWithin(proc: InstanceProcess, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`was not ready within ${ms} ms`)), ms)
    proc.ready.then(
      () => {
        clearTimeout(timer)
        resolve()
      },
      (error: Error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
