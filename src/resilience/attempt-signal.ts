/**
 * The abort signal of one attempt of a hedged call: what transports use of an AbortSignal
 * (`aborted`, `reason`, abort listeners added and removed), without an EventTarget and an
 * AbortController per attempt, which cost more than the rest of a hedged call's
 * bookkeeping together. Passed where an AbortSignal is expected (transports only read those
 * members; nothing hands it to AbortSignal.any or a timer).
 */
export class AttemptSignal {
  aborted = false
  reason: unknown = undefined
  #listeners: (() => void)[] = []

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return
    this.#listeners.push(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners.indexOf(listener)
    if (at !== -1) this.#listeners.splice(at, 1)
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason
  }

  /** Abort: every listener runs once. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.#listeners
    this.#listeners = []
    for (const listener of listeners) listener()
  }

  /** This, typed as what transports take. */
  asSignal(): AbortSignal {
    return this as unknown as AbortSignal
  }
}
