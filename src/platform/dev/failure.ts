import type { Printer } from './output.js'

/**
 * A service's current failure, printed once: saving again with the same error prints a
 * one-line reminder, not the error. Two failures are the same when they differ only in
 * what changes from run to run (times, pids, ports, ids).
 */
export class FailureReport {
  readonly #printer: Printer
  readonly #service: string
  #signature: string | undefined
  #current: string | undefined

  constructor(printer: Printer, service: string) {
    this.#printer = printer
    this.#service = service
  }

  /** The failure's headline, until {@link clear}. */
  get current(): string | undefined {
    return this.#current
  }

  report(headline: string, detail?: string): void {
    const signature = normalize(`${headline}\n${detail ?? ''}`)
    this.#current = headline
    if (signature === this.#signature) {
      this.#printer.note(this.#service, `${headline} (the same error as above)`)
      return
    }
    this.#signature = signature
    this.#printer.problem(this.#service, headline, detail)
  }

  clear(): void {
    this.#signature = undefined
    this.#current = undefined
  }
}

/** The text without what differs between two runs of the same failure. */
export function normalize(text: string): string {
  return text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?/g, '<time>')
    .replace(/"time":\s*\d+/g, '"time":<time>')
    .replace(/\bpid"?:?\s*\d+/gi, 'pid <pid>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
    .replace(/((?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9a-f:]+\]):\d+/gi, '$1:<port>')
    .replace(/\b\d+ ms\b/g, '<n> ms')
}
