import type { LogLine } from '../../dashboard/api/types.js'

/** Lines kept per service by default. */
export const DEFAULT_RING_LINES = 1000

/**
 * The recent output of the dev loop's services for the dashboard: a bounded ring of lines
 * per service (the oldest make room), and listeners that hear each line as it is added.
 */
export class LogRing {
  readonly #capacity: number
  readonly #rings = new Map<string, { lines: LogLine[]; next: number }>()
  readonly #listeners = new Set<(line: LogLine) => void>()

  constructor(capacity = DEFAULT_RING_LINES) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('capacity must be at least 1')
    this.#capacity = capacity
  }

  add(line: LogLine): void {
    let ring = this.#rings.get(line.service)
    if (!ring) {
      ring = { lines: [], next: 0 }
      this.#rings.set(line.service, ring)
    }
    if (ring.lines.length < this.#capacity) ring.lines.push(line)
    else {
      ring.lines[ring.next] = line
      ring.next = (ring.next + 1) % this.#capacity
    }
    for (const listener of this.#listeners) listener(line)
  }

  /** The last `count` lines of `service` (of every service when undefined, in time order), oldest first. */
  last(service: string | undefined, count: number): LogLine[] {
    if (count <= 0) return []
    if (service !== undefined) return this.#ordered(service).slice(-count)
    const all = [...this.#rings.keys()].flatMap((name) => this.#ordered(name))
    // A stable sort: lines of one service added in the same millisecond keep their order.
    return all.sort((a, b) => a.time - b.time).slice(-count)
  }

  /** Hear every line added from now on; returns the unsubscribe function. */
  listen(listener: (line: LogLine) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #ordered(service: string): LogLine[] {
    const ring = this.#rings.get(service)
    if (!ring) return []
    return [...ring.lines.slice(ring.next), ...ring.lines.slice(0, ring.next)]
  }
}
