/**
 * A cheap clock for bookkeeping that tolerates a few milliseconds of lag: when a cached
 * registry record goes stale, when a connection was last used or heard from. Reading the
 * system clock costs 80 to 180 ns on the VMs this runs on, several times per remote call
 * before this; never use this for deadlines (see DeadlineList).
 */

let cached = 0
let fresh = false
let reads = 0
const stale = () => {
  fresh = false
}

/**
 * Epoch ms, read from the system clock at most once per event-loop turn and once per 64
 * reads, so it lags by at most one turn (or 64 reads within a long one).
 */
export function turnClock(): number {
  if (!fresh || ++reads > 64) {
    cached = Date.now()
    reads = 0
    if (!fresh) {
      fresh = true
      setImmediate(stale)
    }
  }
  return cached
}
