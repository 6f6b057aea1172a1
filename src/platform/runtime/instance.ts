import { spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import { LineSplitter } from './lines.js'
import { processStartTime, signalGroup } from './proc.js'
import type { ExitInfo } from './types.js'

/** The environment variable that tells an instance where to say it is ready. */
export const READY_FD_VARIABLE = 'MICRO_READY_FD'
/**
 * Set (to `stdin`) for a process with a start gate: it loads, then waits for a `start`
 * line on its standard input before it starts serving; end of input means "do not start".
 */
export const START_GATE_VARIABLE = 'MICRO_START_GATE'
/** The instance's readiness pipe: writing anything to it (e.g. `ready\n`) marks it ready. */
export const READY_FD = 3

/**
 * `micro run <folder>` prints `<name> <version> is running: ...` once every kind has
 * started (and an rpc kind has registered); the runtime takes it as the ready signal of
 * a service folder.
 */
const RUNNING_LINE = /^\S+ \S+ is running(:|$)/

/** How to start one process of a service. */
export interface Command {
  /** The program, usually `process.execPath`. */
  file: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /**
   * `signal`: ready when it writes to its readiness pipe or prints the `micro run` running
   * line. `alive`: the same, or once it has stayed up `readyAfter` ms (plain scripts that
   * signal nothing).
   */
  readiness: 'signal' | 'alive'
  /** The source's version, shown in status. */
  version: string
  /**
   * Start gate: a process is spawned at once and loads, but starts only once this resolves
   * true (false: it is told not to start, and exits). A gate that has resolved opens at
   * once, so restarts of the command are not held. Used by the dev loop to boot a service
   * while its dependencies start, or while its new code is checked.
   */
  gate?: Promise<boolean>
}

/** What a line of output is attributed to. */
export interface OutputLine {
  stream: 'stdout' | 'stderr'
  line: string
  pid: number
}

export interface SpawnOptions {
  /** For `alive` readiness, ms. */
  readyAfter: number
  onLine(line: OutputLine): void
}

/**
 * One running process of a service: its output split into lines, its readiness, its exit.
 * It is started as the leader of its own process group, so stopping it stops whatever it
 * started, and a Ctrl-C in the runtime's terminal reaches the runtime only (which then
 * stops its instances in order).
 */
export class InstanceProcess {
  readonly command: Command
  readonly pid: number
  readonly startedAt = Date.now()
  /** The kernel's start time of the process (see processStartTime): pid + this name it across restarts of the runtime. */
  readonly startTime: Promise<string | undefined>
  /** Resolves when the process is ready; rejects if it exits first. */
  readonly ready: Promise<void>
  /** Resolves once the process has exited and its output has been read. */
  readonly exited: Promise<ExitInfo>
  #isReady = false
  #exit: ExitInfo | undefined
  #stopping: Promise<ExitInfo> | undefined
  #reason: string | undefined

  constructor(command: Command, options: SpawnOptions) {
    this.command = command
    const gated = command.gate !== undefined
    const child = spawn(command.file, command.args, {
      cwd: command.cwd,
      env: {
        ...command.env,
        [READY_FD_VARIABLE]: String(READY_FD),
        ...(gated ? { [START_GATE_VARIABLE]: 'stdin' } : {}),
      },
      stdio: [gated ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    })
    if (command.gate && child.stdin) {
      const stdin = child.stdin
      stdin.on('error', () => {}) // it may have exited before the gate opened
      command.gate.then(
        (open) => (open ? stdin.end('start\n') : stdin.end()),
        () => stdin.end(),
      )
    }
    this.pid = child.pid ?? 0
    this.startTime = this.pid ? processStartTime(this.pid) : Promise.resolve(undefined)
    let markReady: () => void = () => {}
    let failReady: (error: Error) => void = () => {}
    this.ready = new Promise((resolve, reject) => {
      markReady = () => {
        if (this.#isReady || this.#exit) return
        this.#isReady = true
        resolve()
      }
      failReady = reject
    })
    this.ready.catch(() => {})
    const pending = [
      this.#read(child.stdout, 'stdout', options, markReady),
      this.#read(child.stderr, 'stderr', options, markReady),
    ]
    ;(child.stdio[READY_FD] as Readable | null)?.on('data', markReady).on('error', () => {})
    const aliveTimer =
      command.readiness === 'alive' ? setTimeout(markReady, Math.max(0, options.readyAfter)) : undefined
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (code: number | null, signal: string | null, reason?: string) => {
        if (this.#exit) return
        clearTimeout(aliveTimer)
        // Whatever the instance started dies with it, so no orphan holds its port.
        if (this.pid) signalGroup(this.pid, 'SIGKILL')
        const why = reason ?? this.#reason
        this.#exit = { code, signal, at: new Date().toISOString(), ...(why ? { reason: why } : {}) }
        failReady(new Error(`exited (${describeExit(this.#exit)}) before it was ready`))
        // Output still in the pipes is read before the exit is reported (bounded wait).
        const flushed = Promise.all(pending)
        const cap = setTimeout(() => resolve(this.#exit as ExitInfo), 2000)
        flushed.then(() => {
          clearTimeout(cap)
          resolve(this.#exit as ExitInfo)
        })
      }
      child.once('exit', (code, signal) => finish(code, signal))
      child.once('error', (error) => {
        if (this.pid === 0) finish(null, null, `could not start: ${error.message}`)
      })
    })
  }

  get isReady(): boolean {
    return this.#isReady
  }

  /** How it ended, once it has. */
  get exit(): ExitInfo | undefined {
    return this.#exit
  }

  /** Ms since it started. */
  get uptime(): number {
    return Date.now() - this.startedAt
  }

  /**
   * Stop it: SIGTERM (the service drains and deregisters), then SIGKILL after `timeout` ms.
   * `reason` is kept on the exit record (e.g. why a start was abandoned).
   */
  stop(timeout: number, reason?: string): Promise<ExitInfo> {
    if (reason) this.#reason ??= reason
    if (this.#exit) return Promise.resolve(this.#exit)
    this.#stopping ??= (async () => {
      signalGroup(this.pid, 'SIGTERM')
      const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), timeout)
      try {
        return await this.exited
      } finally {
        clearTimeout(timer)
      }
    })()
    return this.#stopping
  }

  #read(
    stream: Readable | null,
    name: 'stdout' | 'stderr',
    options: SpawnOptions,
    markReady: () => void,
  ): Promise<void> {
    if (!stream) return Promise.resolve()
    const pid = this.pid
    const splitter = new LineSplitter((line) => {
      if (name === 'stdout' && !this.#isReady && RUNNING_LINE.test(line)) markReady()
      options.onLine({ stream: name, line, pid })
    })
    stream.on('data', (chunk: Buffer) => splitter.push(chunk))
    return new Promise((resolve) => {
      const done = () => {
        splitter.end()
        resolve()
      }
      stream.once('end', done)
      stream.once('error', done)
      stream.once('close', done)
    })
  }
}

/** `code 1`, `signal SIGKILL`, or the reason. */
export function describeExit(exit: ExitInfo): string {
  const how = exit.signal ? `signal ${exit.signal}` : exit.code !== null ? `code ${exit.code}` : 'no code'
  return exit.reason ? `${how}: ${exit.reason}` : how
}
