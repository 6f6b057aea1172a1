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
  /** The one listener a transport adds; more (rare) wait in `#more`: no array per attempt. */
  #listener: (() => void) | undefined = undefined
  #more: (() => void)[] | undefined = undefined

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return
    if (this.#listener === undefined) {
      this.#listener = listener
      return
    }
    this.#more ??= []
    this.#more.push(listener)
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) {
      this.#listener = this.#more?.shift()
      return
    }
    const at = this.#more?.indexOf(listener) ?? -1
    if (at !== -1) this.#more?.splice(at, 1)
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason
  }

  /** Abort: every listener runs once. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const first = this.#listener
    const more = this.#more
    this.#listener = undefined
    this.#more = undefined
    first?.()
    if (more !== undefined) for (const listener of more) listener()
  }

  /** This, typed as what transports take. */
  asSignal(): AbortSignal {
    return this as unknown as AbortSignal
  }
}
