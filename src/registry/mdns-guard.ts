import type { Logger } from '../logger/logger.js'

/**
 * How much inbound work one mDNS registry accepts. Work is counted in bytes: every datagram
 * costs its size (parsing it), every record decoded costs what it inflated to. Anyone who can
 * reach the group can send, so these budgets are what keeps a flood from owning the process.
 */
export interface MdnsLimits {
  /** Work bytes one source (address:port) may spend per second. Default 2 MiB. */
  sourceRate?: number
  /** Work bytes one source may spend at once after being quiet. Default 4 MiB. */
  sourceBurst?: number
  /** Work bytes all sources together may spend per second. Default 8 MiB. */
  totalRate?: number
  /** Work bytes all sources together may spend at once. Default 8 MiB. */
  totalBurst?: number
  /** Drops from one source are logged at most once per this many ms. Default 60 000. */
  logInterval?: number
  /** Most nodes of other processes remembered (for watchers); new ones past it are dropped. Default 10 000. */
  maxPeerNodes?: number
}

/** Why inbound traffic was dropped. */
export type DropReason =
  /** The source or the whole registry spent its work budget. */
  | 'over-budget'
  /** Not a DNS packet. */
  | 'malformed'
  /** A response from a port other than the group's (RFC 6762 §6 says to ignore those). */
  | 'wrong-port'
  /** More records or questions in one packet than any of ours carries. */
  | 'too-many-records'
  /** A record of ours that does not decode: too big, too deep, not JSON or the wrong shape. */
  | 'bad-record'
  /** A node never heard before while `maxPeerNodes` are already remembered. */
  | 'too-many-nodes'

/** Most sources tracked at once; the least recently heard is forgotten first. */
const MAX_SOURCES = 1024

interface Bucket {
  tokens: number
  updated: number
}

interface Report {
  /** Epoch ms of the last log line about this address; 0 before the first. */
  loggedAt: number
  /** Drops since that line. */
  unlogged: Partial<Record<DropReason, number>>
}

/**
 * Token buckets over inbound mDNS work, one per source (`address:port`) plus one for
 * everything, and drop accounting that logs at most one line per address per interval (never
 * one per packet; per address, so a sender cycling through ports still gets one line).
 */
export class InboundGuard {
  readonly #sourceRate: number
  readonly #sourceBurst: number
  readonly #totalRate: number
  readonly #logInterval: number
  readonly #total: Bucket
  readonly #totalBurst: number
  readonly #buckets = new Map<string, Bucket>()
  readonly #reports = new Map<string, Report>()
  readonly #dropped: Record<DropReason, number> = {
    'over-budget': 0,
    malformed: 0,
    'wrong-port': 0,
    'too-many-records': 0,
    'bad-record': 0,
    'too-many-nodes': 0,
  }
  readonly #logger: Logger
  readonly #now: () => number

  constructor(limits: MdnsLimits, logger: Logger, now: () => number = Date.now) {
    this.#sourceRate = limits.sourceRate ?? 2 * 1024 * 1024
    this.#sourceBurst = limits.sourceBurst ?? 4 * 1024 * 1024
    this.#totalRate = limits.totalRate ?? 8 * 1024 * 1024
    this.#totalBurst = limits.totalBurst ?? 8 * 1024 * 1024
    this.#logInterval = limits.logInterval ?? 60_000
    this.#logger = logger
    this.#now = now
    this.#total = { tokens: this.#totalBurst, updated: now() }
  }

  /**
   * Whether `source` may spend `cost` work bytes now; if so they are taken from its budget and
   * the total. A refusal is counted (and maybe logged) as `over-budget`.
   */
  admit(source: string, cost: number): boolean {
    const now = this.#now()
    const bucket = recent(this.#buckets, source, () => ({ tokens: this.#sourceBurst, updated: now }))
    refill(bucket, now, this.#sourceRate, this.#sourceBurst)
    refill(this.#total, now, this.#totalRate, this.#totalBurst)
    if (bucket.tokens <= 0 || this.#total.tokens <= 0) {
      this.drop(source, 'over-budget')
      return false
    }
    bucket.tokens -= cost
    this.#total.tokens -= cost
    return true
  }

  /** Charge work found out after admission (what a record inflated to); budgets may go negative. */
  charge(source: string, cost: number): void {
    const bucket = this.#buckets.get(source)
    if (bucket) bucket.tokens -= cost
    this.#total.tokens -= cost
  }

  /**
   * Count a drop from `source` (`address:port`). A line is logged when its address had none
   * within the interval; it carries every drop counted since the previous line.
   */
  drop(source: string, reason: DropReason): void {
    this.#dropped[reason]++
    const now = this.#now()
    const address = source.slice(0, source.lastIndexOf(':'))
    const report = recent<Report>(this.#reports, address, () => ({ loggedAt: 0, unlogged: {} }))
    report.unlogged[reason] = (report.unlogged[reason] ?? 0) + 1
    if (report.loggedAt !== 0 && now - report.loggedAt < this.#logInterval) return
    this.#logger.warn('mdns: dropped inbound traffic', {
      address,
      dropped: report.unlogged,
      nextReportInMs: this.#logInterval,
    })
    report.loggedAt = now
    report.unlogged = {}
  }

  /** Drops so far, by reason (for tests and diagnostics). */
  dropped(): Readonly<Record<DropReason, number>> {
    return { ...this.#dropped }
  }
}

/**
 * The entry of `key`, created when missing, moved to the end so the map stays in
 * least-recently-used order; past {@link MAX_SOURCES} entries the oldest is forgotten.
 */
function recent<T>(map: Map<string, T>, key: string, create: () => T): T {
  let entry = map.get(key)
  if (entry === undefined) {
    entry = create()
    if (map.size >= MAX_SOURCES) {
      const oldest = map.keys().next().value
      if (oldest !== undefined) map.delete(oldest)
    }
  } else {
    map.delete(key)
  }
  map.set(key, entry)
  return entry
}

function refill(bucket: Bucket, now: number, rate: number, burst: number): void {
  const elapsed = now - bucket.updated
  if (elapsed <= 0) return
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * rate) / 1000)
  bucket.updated = now
}
