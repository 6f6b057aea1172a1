import type { ExitInfo } from '../runtime/types.js'

/** How a start ended: ready, or how its process exited first. */
export type StartOutcome = 'ready' | ExitInfo

/**
 * A service's readiness as its dependents and its own reloads wait for it: the first time
 * it is ready (once, for good), and the outcome of the next start (each time).
 */
export class Readiness {
  #ready = false
  #readyWaiters: (() => void)[] = []
  #outcomeWaiters: ((outcome: StartOutcome) => void)[] = []

  /** Whether it has been ready once. */
  get ever(): boolean {
    return this.#ready
  }

  /** Resolves the first time it is ready (at once if it has been). */
  whenReady(): Promise<void> {
    if (this.#ready) return Promise.resolve()
    return new Promise((resolve) => this.#readyWaiters.push(resolve))
  }

  /** It is ready: release everyone waiting for the first time. */
  ready(): void {
    if (this.#ready) return
    this.#ready = true
    for (const resolve of this.#readyWaiters.splice(0)) resolve()
  }

  /** Resolves with the outcome of the next start. */
  next(): Promise<StartOutcome> {
    return new Promise((resolve) => this.#outcomeWaiters.push(resolve))
  }

  /** A start ended so: tell those waiting for it. */
  settle(outcome: StartOutcome): void {
    for (const resolve of this.#outcomeWaiters.splice(0)) resolve(outcome)
  }
}
