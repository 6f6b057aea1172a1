// A small real runtime for the dashboard's tests: child processes whose output is kept
// line by line, restarted and stopped on request, with a crash-loop flag. The real one is
// src/platform/runtime; this stands in for it behind the dashboard's RuntimeSource.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import type { LogLine, RuntimeService } from '../../../src/dashboard/api/types.js'
import type { RuntimeSource } from '../../../src/dashboard/sources.js'
import { notFound } from '../../../src/errors/errors.js'

interface Proc {
  name: string
  argv: string[]
  child: ChildProcess | undefined
  state: RuntimeService
  crashes: number[]
  /** Restart by itself when the process exits on its own. */
  autoRestart: boolean
}

export class ChildRuntime implements RuntimeSource {
  readonly #procs = new Map<string, Proc>()
  readonly #lines: LogLine[] = []
  readonly #listeners = new Set<(line: LogLine) => void>()

  /** Start `node ...argv` as service `name`. */
  start(name: string, argv: string[], options: { autoRestart?: boolean } = {}): void {
    const proc: Proc = {
      name,
      argv,
      child: undefined,
      state: { name, namespace: 'micro', status: 'starting', restarts: 0, crashLoop: false },
      crashes: [],
      autoRestart: options.autoRestart ?? false,
    }
    this.#procs.set(name, proc)
    this.#spawn(proc)
  }

  #spawn(proc: Proc): void {
    const child = spawn(process.execPath, proc.argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.child = child
    Object.assign(proc.state, { status: 'running', pid: child.pid, startedAt: Date.now() })
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream] as NodeJS.ReadableStream }).on('line', (text) =>
        this.#push({ service: proc.name, time: Date.now(), stream, text }),
      )
    }
    child.on('exit', (code) => {
      if (proc.child !== child) return
      proc.child = undefined
      proc.state.lastExitCode = code
      proc.state.status = code === 0 || code === null ? 'stopped' : 'crashed'
      delete proc.state.pid
      if (proc.state.status !== 'crashed' || !proc.autoRestart) return
      const now = Date.now()
      proc.crashes = [...proc.crashes.filter((t) => now - t < 10_000), now]
      proc.state.crashLoop = proc.crashes.length >= 3
      proc.state.restarts++
      proc.state.status = 'restarting'
      setTimeout(() => this.#spawn(proc), proc.state.crashLoop ? 1000 : 100).unref()
    })
  }

  #push(line: LogLine): void {
    this.#lines.push(line)
    if (this.#lines.length > 5000) this.#lines.shift()
    for (const listener of this.#listeners) listener(line)
  }

  async list(): Promise<RuntimeService[]> {
    return [...this.#procs.values()].map((p) => ({ ...p.state }))
  }

  async *logs(options: { service?: string; lines: number; follow: boolean; signal: AbortSignal }) {
    const mine = (l: LogLine) => options.service === undefined || l.service === options.service
    const queue: LogLine[] = this.#lines.filter(mine).slice(-options.lines)
    let wake: (() => void) | undefined
    const listener = (line: LogLine) => {
      if (!mine(line)) return
      queue.push(line)
      wake?.()
    }
    if (options.follow) this.#listeners.add(listener)
    const aborted = () => wake?.()
    options.signal.addEventListener('abort', aborted)
    try {
      while (!options.signal.aborted) {
        while (queue.length > 0) yield queue.shift() as LogLine
        if (!options.follow) return
        await new Promise<void>((resolve) => {
          wake = resolve
        })
      }
    } finally {
      this.#listeners.delete(listener)
      options.signal.removeEventListener('abort', aborted)
    }
  }

  async restart(name: string): Promise<void> {
    const proc = this.#get(name)
    await this.stop(name)
    proc.state.restarts++
    this.#spawn(proc)
  }

  async stop(name: string): Promise<void> {
    const proc = this.#get(name)
    const child = proc.child
    if (!child) return
    proc.child = undefined
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
    Object.assign(proc.state, { status: 'stopped', lastExitCode: child.exitCode })
    delete proc.state.pid
  }

  #get(name: string): Proc {
    const proc = this.#procs.get(name)
    if (!proc) throw notFound('test.runtime', `no service ${name}`)
    return proc
  }

  async close(): Promise<void> {
    for (const name of this.#procs.keys()) await this.stop(name)
  }
}
