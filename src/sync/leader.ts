import { setTimeout as sleep } from 'node:timers/promises'
import { AsyncQueue } from '../util/async-queue.js'
import type { Leader, LeaderStatus, Lock, LockOptions } from './sync.js'

/** How a campaign takes the election's lock (the Sync's own `lock`). */
export type TakeLock = (id: string, options: LockOptions) => Promise<Lock>

/**
 * A leader-election candidate built on a lock: take the lock (waiting as long as it
 * takes), report 'gained', hold it until it is lost or the candidate resigns, report
 * 'lost', and (unless resigned) campaign again.
 */
export class Campaign implements Leader {
  readonly id: string
  readonly namespace: string
  readonly #ttl: number
  readonly #retryDelay: number
  readonly #take: TakeLock
  readonly #resigned = new AbortController()
  readonly #watchers = new Set<AsyncQueue<LeaderStatus>>()
  readonly #done: Promise<void>
  #lock: Lock | undefined

  constructor(
    take: TakeLock,
    id: string,
    namespace: string,
    ttl: number,
    retryDelay: number,
    onDone?: (campaign: Campaign) => void,
  ) {
    this.#take = take
    this.id = id
    this.namespace = namespace
    this.#ttl = ttl
    this.#retryDelay = retryDelay
    this.#done = this.#campaign().finally(() => onDone?.(this))
  }

  get isLeader(): boolean {
    return this.#lock?.held === true
  }

  get token(): number | undefined {
    return this.isLeader ? this.#lock?.token : undefined
  }

  get status(): AsyncIterable<LeaderStatus> {
    return {
      [Symbol.asyncIterator]: () => {
        const queue: AsyncQueue<LeaderStatus> = new AsyncQueue({
          onReturn: () => this.#watchers.delete(queue),
        })
        if (this.isLeader) queue.push('gained')
        if (this.#resigned.signal.aborted && !this.#lock) queue.end()
        else this.#watchers.add(queue)
        return queue
      },
    }
  }

  async resign(): Promise<void> {
    this.#resigned.abort()
    await this.#done
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.resign()
  }

  /** Stop campaigning without releasing the lock (a candidate that died). */
  abandon(): void {
    ;(this.#lock as { abandon?: () => void } | undefined)?.abandon?.()
    this.#resigned.abort()
  }

  async #campaign(): Promise<void> {
    const resigned = this.#resigned.signal
    while (!resigned.aborted) {
      let lock: Lock
      try {
        lock = await this.#take(this.id, { ttl: this.#ttl, namespace: this.namespace, signal: resigned })
      } catch {
        // Resigned while waiting, or the engine failed: pause, then campaign again.
        await sleep(this.#retryDelay, undefined, { signal: resigned, ref: false }).catch(() => {})
        continue
      }
      if (resigned.aborted) {
        await lock.unlock()
        break
      }
      this.#lock = lock
      this.#emit('gained')
      await firstAbort(lock.lost, resigned)
      await lock.unlock()
      this.#lock = undefined
      this.#emit('lost')
      if (!resigned.aborted)
        await sleep(this.#retryDelay, undefined, { signal: resigned, ref: false }).catch(() => {})
    }
    for (const watcher of this.#watchers) watcher.end()
    this.#watchers.clear()
  }

  #emit(status: LeaderStatus): void {
    for (const watcher of this.#watchers) watcher.push(status)
  }
}

function firstAbort(a: AbortSignal, b: AbortSignal): Promise<void> {
  if (a.aborted || b.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      a.removeEventListener('abort', done)
      b.removeEventListener('abort', done)
      resolve()
    }
    a.addEventListener('abort', done)
    b.addEventListener('abort', done)
  })
}
