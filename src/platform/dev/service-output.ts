import type { LogRecord } from '../runtime/types.js'
import type { Printer } from './output.js'
import type { DevEvent } from './types.js'

/** `micro run`'s running line: what a service serves on, once it is registered. */
const RUNNING = /^\S+ \S+ is running: (.*)$/
/** Lines of a starting new version kept to show (the rest of a flood is dropped). */
const MAX_HELD = 1000
/** Supervisor notes the dev loop says in its own words. */
const OWN_WORDS = /^(?:started pid|replaced pid|update failed|roll back failed)/

/**
 * Where a service's output goes. Lines print as they come, except during a reload: the
 * new process's lines are held until it takes over (then printed, before the old one's
 * drain, which is marked `[old]`) or fails (then they are the error). The running line is
 * not printed: it is the readiness signal, and says what the service serves on.
 */
export class ServiceOutput {
  /** What each process said it serves on (`rpc on 127.0.0.1:41203`), by pid. */
  readonly serving = new Map<number, string>()
  readonly #name: string
  readonly #printer: Printer
  readonly #emit: (event: DevEvent) => void
  #held:
    | { servingPid: number | undefined; lines: { stream: 'stdout' | 'stderr'; line: string; pid: number }[] }
    | undefined
  #retiringPid: number | undefined

  constructor(name: string, printer: Printer, emit: (event: DevEvent) => void) {
    this.#name = name
    this.#printer = printer
    this.#emit = emit
  }

  /** A new process starts next to `servingPid`: hold the lines of any other process. */
  hold(servingPid: number | undefined): void {
    this.#held = { servingPid, lines: [] }
  }

  /** The new process took over: print what it said; the old one's lines are marked from now. */
  release(): void {
    const held = this.#held
    if (!held) return
    this.#held = undefined
    this.#retiringPid = held.servingPid
    for (const { stream, line, pid } of held.lines) this.#print(stream, line, undefined, pid)
  }

  /** The new process failed: the lines it wrote (for the error), forgotten here. */
  drop(): string[] {
    const lines = this.#held?.lines.map((l) => l.line) ?? []
    this.#held = undefined
    return lines
  }

  /** The swap is over (the old process has stopped). */
  settled(): void {
    this.#held = undefined
    this.#retiringPid = undefined
  }

  /** A record from the Supervisor: a line of output, or one of its notes. */
  record(record: LogRecord): void {
    if (record.stream === 'runtime') {
      if (!OWN_WORDS.test(record.line)) this.#printer.note(this.#name, record.line)
      return
    }
    const running = record.stream === 'stdout' ? RUNNING.exec(record.line) : null
    if (running) {
      this.serving.set(record.pid, running[1] as string)
      return
    }
    const held = this.#held
    if (held && record.pid !== held.servingPid) {
      if (held.lines.length < MAX_HELD)
        held.lines.push({ stream: record.stream, line: record.line, pid: record.pid })
      return
    }
    this.#print(
      record.stream,
      record.line,
      record.pid === this.#retiringPid ? '[old]' : undefined,
      record.pid,
    )
  }

  #print(stream: 'stdout' | 'stderr', line: string, tag: string | undefined, pid: number): void {
    this.#printer.output(this.#name, stream, line, tag)
    this.#emit({ type: 'output', service: this.#name, stream, line, pid })
  }
}
