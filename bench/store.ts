/**
 * Phase 7: the store. One fixture process (pinned to core 1) measures the file store
 * (reads/s, durable writes/s) and the Redis store next to bare ioredis doing the same
 * GET/SET, in interleaved rounds. The orchestrator owns the temporary directory and the
 * Redis namespace, so both are removed even when the fixture dies.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnFixture } from './children.js'
import { settleAndDeleteKeys } from './cleanup.js'
import { uniqueName } from './remote.js'
import { median } from './stats.js'

/** Every round's ops/s per case, as the fixture measured them. */
export type Rounds = Record<string, number[]>

/** The store fixture's result line. */
export interface StoreRaw {
  file: Rounds
  /** Per level of in-flight operations (`1`, `32`): bareGet, storeRead, bareSet, storeWrite. */
  redis: Record<string, Rounds> | { skipped: string }
}

/** One line of the store table: a case's median ops/s, and the bare baseline it is compared with. */
export interface StoreRow {
  name: string
  opsPerSec: number
  /** Median ops/s of the bare ioredis command doing the same, when there is one. */
  bare: number | undefined
  rounds: number[]
}

/** The store phase's rows, in report order, and the raw rounds. */
export interface StoreResult {
  rows: StoreRow[]
  /** Why Redis was not measured, if it was not. */
  redisSkipped: string | undefined
  raw: StoreRaw
}

const script = fileURLToPath(new URL('./fixtures/store-case.js', import.meta.url))

/** Run the store fixture once (all cases, all rounds) and clean up after it. */
export async function runStore(
  options: { durationMs: number; rounds: number },
  redisAddress: string,
): Promise<StoreResult> {
  const directory = await mkdtemp(join(tmpdir(), 'micro-bench-store-'))
  const namespace = uniqueName('bench-store')
  const child = spawnFixture(script, {
    core: 1,
    env: {
      BENCH_STORE_DIR: directory,
      BENCH_NAMESPACE: namespace,
      BENCH_REDIS: redisAddress,
      BENCH_DURATION_MS: String(options.durationMs),
      BENCH_ROUNDS: String(options.rounds),
    },
  })
  try {
    // 2 file cases and 2 levels of 4 Redis cases per round, plus warm-ups and filling.
    const budget = options.rounds * 10 * options.durationMs + 60_000
    const line = await child.waitFor('result', budget)
    return summarizeStore(line.data as unknown as StoreRaw)
  } finally {
    await child.stop()
    await rm(directory, { recursive: true, force: true })
    for (const pattern of [`micro:bench:${namespace}:*`, `micro:store:*${namespace}*`]) {
      await settleAndDeleteKeys(redisAddress, pattern).catch(() => {})
    }
  }
}

/** Medians per case, in the order of the report. */
export function summarizeStore(raw: StoreRaw): StoreResult {
  const row = (name: string, rounds: number[] | undefined, bare?: number[]): StoreRow => ({
    name,
    opsPerSec: median(rounds ?? []),
    bare: bare ? median(bare) : undefined,
    rounds: rounds ?? [],
  })
  const rows = [
    row('file store read (1 at a time)', raw.file.read),
    row('file store durable write (256 in flight)', raw.file.durableWrite),
  ]
  const skipped = 'skipped' in raw.redis ? String(raw.redis.skipped) : undefined
  if (!('skipped' in raw.redis)) {
    for (const [level, cases] of Object.entries(raw.redis)) {
      const n = `${level} in flight`
      rows.push(
        row(`redis bare GET (${n})`, cases.bareGet),
        row(`redis store read (${n})`, cases.storeRead, cases.bareGet),
        row(`redis bare SET (${n})`, cases.bareSet),
        row(`redis store write (${n})`, cases.storeWrite, cases.bareSet),
      )
    }
  }
  return { rows, redisSkipped: skipped, raw }
}

/** The median ops/s of the row named `name`. */
export function storeOps(result: StoreResult | undefined, name: string): number | undefined {
  return result?.rows.find((r) => r.name === name)?.opsPerSec
}
