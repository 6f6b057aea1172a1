/** A call the InFlight list tracks. */
export interface TrackedCall {
  /** Epoch ms after which the call is expired; undefined for none. */
  readonly deadline: number | undefined
  /** List links, owned by InFlight. */
  nextCall: TrackedCall | undefined
  prevCall: TrackedCall | undefined
  /** The deadline passed; the call must fail with a 408. */
  expire(): void
}

const SWEEP_MS = 10

/**
 * The calls a server is running, as an intrusive linked list: adding and removing a call
 * writes a few pointers and allocates nothing, which matters on the in-process path where
 * a whole call costs little more than the handler. One interval, running only while calls
 * are in flight, expires calls past their deadline and keeps a coarse clock.
 */
export class InFlight {
  #head: TrackedCall | undefined
  #count = 0
  #timer: NodeJS.Timeout | undefined
  #clock = 0
  #idleWaiters: (() => void)[] = []

  get count(): number {
    return this.#count
  }

  /**
   * The current time in epoch ms, at most one sweep interval old while calls are in
   * flight (reading the system clock per call costs more than the rest of a local call).
   */
  now(): number {
    return this.#timer === undefined ? Date.now() : this.#clock
  }

  add(call: TrackedCall): void {
    const head = this.#head
    call.nextCall = head
    call.prevCall = undefined
    if (head !== undefined) head.prevCall = call
    this.#head = call
    this.#count++
    if (this.#timer === undefined) {
      this.#clock = Date.now()
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS)
    }
  }

  remove(call: TrackedCall): void {
    const prev = call.prevCall
    const next = call.nextCall
    if (prev !== undefined) prev.nextCall = next
    else if (this.#head === call) this.#head = next
    else return // not in the list (already removed)
    if (next !== undefined) next.prevCall = prev
    call.nextCall = undefined
    call.prevCall = undefined
    if (--this.#count === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters
      this.#idleWaiters = []
      for (const waiter of waiters) waiter()
    }
  }

  /** Resolves true once nothing is in flight, false if `timeoutMs` passes first. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== done)
        resolve(false)
      }, timeoutMs)
      this.#idleWaiters.push(done)
    })
  }

  #sweep(): void {
    const now = Date.now()
    this.#clock = now
    if (this.#count === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    let call = this.#head
    while (call !== undefined) {
      const next = call.nextCall
      if (call.deadline !== undefined && call.deadline <= now) call.expire()
      call = next
    }
  }
}
