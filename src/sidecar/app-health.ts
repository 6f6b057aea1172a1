import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import type { AppClient } from './app-client.js'

/** Polling starts fast (an app that is about to listen) and slows down to this. */
const WAIT_STEPS_MS = [50, 100, 200, 400, 800, 1000]
/** Failed checks in a row before an app that was up counts as down (Dapr's default threshold). */
export const DOWN_AFTER = 3

/**
 * The app's health as the sidecar sees it: `GET <path>` answering 2xx within the check's
 * timeout is a good check; anything else (a refused connection, a 503, a hang) a failed one,
 * with the reason kept for `/v1/healthz`. The app is up from its first good check and down
 * after {@link DOWN_AFTER} failed ones in a row, so one slow answer on a busy machine does
 * not flip it. (Calls to an app that is gone fail at once anyway: they see the refused
 * connection themselves.)
 */
export class AppHealth {
  readonly #app: AppClient
  readonly #path: string
  readonly #checkTimeout: number
  readonly #headers: Record<string, string> | undefined
  #up = false
  #failures = 0
  #reason = 'not checked yet'
  #timer: NodeJS.Timeout | undefined

  constructor(app: AppClient, path: string, checkTimeout: number, headers?: Record<string, string>) {
    this.#app = app
    this.#path = path
    this.#checkTimeout = checkTimeout
    this.#headers = headers
  }

  /** Whether the app counts as up. */
  get up(): boolean {
    return this.#up
  }

  /** Why the last check failed. */
  get reason(): string {
    return this.#reason
  }

  /** Check once now and update the state; resolves with whether this check was good (never rejects). */
  async check(): Promise<boolean> {
    let good: boolean
    try {
      const response = await this.#app.send({
        method: 'GET',
        path: this.#path,
        timeout: this.#checkTimeout,
        ...(this.#headers ? { headers: this.#headers } : {}),
      })
      good = response.status >= 200 && response.status <= 299
      if (!good) this.#reason = `GET ${this.#path} answered HTTP ${response.status}`
    } catch (error) {
      good = false
      this.#reason = `GET ${this.#path}: ${MicroError.from(error).detail}`
    }
    this.#failures = good ? 0 : this.#failures + 1
    if (good) this.#up = true
    else if (this.#failures >= DOWN_AFTER) this.#up = false
    return good
  }

  /** Resolves once a check is good; rejects (AbortError) when `signal` aborts first. */
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
      await this.check()
      if (this.#timer === undefined) return
      if (this.#up !== before) changed(this.#up)
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
