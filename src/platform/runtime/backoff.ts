/** When and how fast a crashed instance is restarted. */
export interface BackoffOptions {
  /** Delay before the first restart after a quick crash, ms. Default 100. */
  initial?: number
  /** Longest delay, ms; a crash loop keeps retrying at this pace. Default 30 000. */
  max?: number
  /** Each quick crash multiplies the delay by this. Default 2. */
  factor?: number
  /**
   * A process that stayed up this long (ms) was not a quick crash: its next crash starts
   * the delays over. Default 10 000.
   */
  resetAfter?: number
  /** This many quick crashes in a row is a crash loop. Default 5. */
  crashLoopAfter?: number
}

/** The defaults, filled in. */
export function backoffSettings(options: BackoffOptions = {}): Required<BackoffOptions> {
  const settings = {
    initial: options.initial ?? 100,
    max: options.max ?? 30_000,
    factor: options.factor ?? 2,
    resetAfter: options.resetAfter ?? 10_000,
    crashLoopAfter: options.crashLoopAfter ?? 5,
  }
  if (!(settings.initial > 0) || !(settings.max >= settings.initial) || !(settings.factor >= 1)) {
    throw new TypeError('backoff needs 0 < initial <= max and factor >= 1')
  }
  if (!(settings.crashLoopAfter >= 1)) throw new TypeError('backoff crashLoopAfter must be at least 1')
  return settings
}

/**
 * Counts one slot's quick crashes and says how long to wait before the next start:
 * `initial`, doubling with each quick crash up to `max`; a process that stayed up
 * `resetAfter` starts the count over. From `crashLoopAfter` quick crashes on, the slot is
 * in a crash loop and waits `max` each time (it is still restarted: a dependency that comes
 * back later lets it recover on its own).
 */
export class CrashBackoff {
  readonly #settings: Required<BackoffOptions>
  #quickCrashes = 0

  constructor(settings: Required<BackoffOptions>) {
    this.#settings = settings
  }

  /** Quick crashes in a row so far. */
  get quickCrashes(): number {
    return this.#quickCrashes
  }

  get crashLooping(): boolean {
    return this.#quickCrashes >= this.#settings.crashLoopAfter
  }

  /** Record a crash of a process that ran `uptime` ms; returns the delay before restarting it. */
  crashed(uptime: number): number {
    if (uptime >= this.#settings.resetAfter) this.#quickCrashes = 0
    this.#quickCrashes++
    if (this.crashLooping) return this.#settings.max
    const { initial, factor, max } = this.#settings
    return Math.min(max, initial * factor ** (this.#quickCrashes - 1))
  }

  /** The process has stayed up long enough: forget the crashes. */
  reset(): void {
    this.#quickCrashes = 0
  }
}
