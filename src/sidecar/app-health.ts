import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import type { AppClient } from './app-client.js'

/** Polling starts fast (an app that is about to listen) and slows down to this. */
const WAIT_STEPS_MS = [50, 100, 200, 400, 800, 1000]

/**
 * The app's health as the sidecar sees it: `GET <path>` answering 2xx within the check's
 * timeout is up, anything else (a refused connection, a 503, a hang) is down, with the
 * reason kept for `/v1/healthz`.
 */
export class AppHealth {
  readonly #app: AppClient
  readonly #path: string
  readonly #checkTimeout: number
  #up = false
  #reason = 'not checked yet'
  #timer: NodeJS.Timeout | undefined

  constructor(app: AppClient, path: string, checkTimeout: number) {
    this.#app = app
    this.#path = path
    this.#checkTimeout = checkTimeout
  }

  /** Whether the last check found the app up. */
  get up(): boolean {
    return this.#up
  }

  /** Why the app counts as down (the last failed check). */
  get reason(): string {
    return this.#reason
  }

  /** Check once now; resolves with the result (never rejects). */
  async check(): Promise<boolean> {
    try {
      const response = await this.#app.send({ method: 'GET', path: this.#path, timeout: this.#checkTimeout })
      this.#up = response.status >= 200 && response.status <= 299
      if (!this.#up) this.#reason = `GET ${this.#path} answered HTTP ${response.status}`
    } catch (error) {
      this.#up = false
      this.#reason = `GET ${this.#path}: ${MicroError.from(error).detail}`
    }
    return this.#up
  }

  /** Resolves once a check finds the app up; rejects (AbortError) when `signal` aborts first. */
  async waitUntilUp(signal: AbortSignal): Promise<void> {
    for (let i = 0; !(await this.check()); i++) {
      signal.throwIfAborted()
      await sleep(WAIT_STEPS_MS[Math.min(i, WAIT_STEPS_MS.length - 1)], undefined, { signal })
    }
  }

  /** Check every `intervalMs` from now on (until `stop`), calling `changed` when up/down flips. */
  watch(intervalMs: number, changed: (up: boolean) => void): void {
    this.stop()
    const tick = async () => {
      const before = this.#up
      const now = await this.check()
      if (this.#timer === undefined) return
      if (now !== before) changed(now)
      this.#timer = setTimeout(tick, intervalMs)
      this.#timer.unref()
    }
    this.#timer = setTimeout(tick, intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
