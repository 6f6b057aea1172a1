/**
 * Store benchmark (standalone for now): `node --import tsx bench/store.ts`.
 *
 * - file store (the default; LMDB in a temporary directory): reads/s (one at a time,
 *   awaited) and durable writes/s (each write resolves once flushed to disk; 256 in
 *   flight, so LMDB batches them into shared commits).
 * - Redis store next to bare ioredis doing the same GET/SET of the same JSON in the same
 *   run, one at a time and 32 in flight; framework overhead as a ratio.
 *
 * Targets: Redis store >= 0.8x bare ioredis; file store >= 50k reads/s and >= 10k durable
 * writes/s. Redis comes from MICRO_BENCH_REDIS or MICRO_TEST_REDIS (default
 * redis://127.0.0.1:6379) and is skipped when unreachable. BENCH_QUICK=1 for a short run.
 * The whole run is bounded by a watchdog.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { FileStore, RedisStore, type Store } from 'micro-ts/store'

const quick = process.env.BENCH_QUICK === '1'
const ROUND_MS = quick ? 300 : 1500
const ROUNDS = quick ? 1 : 3
const KEYS = 1000
const WATCHDOG_MS = 3 * 60_000

setTimeout(() => {
  console.error(`bench/store: still running after ${WATCHDOG_MS / 1000} s; giving up`)
  process.exit(1)
}, WATCHDOG_MS).unref()

const sampleValue = (i: number) => ({ name: 'Alice', n: i, tags: ['a', 'b'], active: true })
const keyOf = (i: number) => `user:${i % KEYS}`

/** Ops/s of `op` run by `concurrency` loops for `ms`. */
async function rate(op: (i: number) => Promise<unknown>, concurrency: number, ms: number): Promise<number> {
  let done = 0
  let next = 0
  const start = performance.now()
  const end = start + ms
  const loop = async () => {
    while (performance.now() < end) {
      await op(next++)
      done++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return done / ((performance.now() - start) / 1000)
}

/** The median of `ROUNDS` rounds, the cases interleaved round by round so drift hits all alike. */
async function interleaved(cases: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = {}
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const list = samples[name] ?? []
      list.push(await run())
      samples[name] = list
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [
      name,
      values.sort((a, b) => a - b)[values.length >> 1]!,
    ]),
  )
}

const rows: [string, string, string][] = []
const verdicts: [string, boolean][] = []
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

async function benchFile(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'micro-bench-store-'))
  const store = new FileStore({ directory })
  try {
    for (let i = 0; i < KEYS; i++) await store.write(keyOf(i), sampleValue(i))
    await rate((i) => store.read(keyOf(i)), 1, ROUND_MS / 3) // warm-up
    const results = await interleaved({
      read: () => rate((i) => store.read(keyOf(i)), 1, ROUND_MS),
      write: () => rate((i) => store.write(keyOf(i), sampleValue(i)), 256, ROUND_MS),
    })
    rows.push(['file store read (1 at a time)', `${fmt(results.read!)} ops/s`, 'target >= 50,000'])
    rows.push([
      'file store durable write (256 in flight)',
      `${fmt(results.write!)} ops/s`,
      'target >= 10,000',
    ])
    verdicts.push(['file store >= 50k reads/s', results.read! >= 50_000])
    verdicts.push(['file store >= 10k durable writes/s', results.write! >= 10_000])
  } finally {
    await store.close()
    rmSync(directory, { recursive: true, force: true })
  }
}

async function benchRedis(address: string): Promise<void> {
  const { Redis } = await import('ioredis')
  const bare = new Redis(address, { maxRetriesPerRequest: 1, lazyConnect: true })
  bare.on('error', () => {})
  try {
    await bare.connect()
  } catch (error) {
    rows.push(['redis', `skipped: ${(error as Error).message}`, ''])
    bare.disconnect()
    return
  }
  const namespace = `bench-${randomUUID()}`
  const bareKey = (i: number) => `micro:bench:${namespace}:${keyOf(i)}`
  const store: Store = new RedisStore({ address })
  try {
    for (let i = 0; i < KEYS; i++) {
      await store.write(keyOf(i), sampleValue(i), { namespace })
      await bare.set(bareKey(i), JSON.stringify(sampleValue(i)))
    }
    for (const concurrency of [1, 32]) {
      const results = await interleaved({
        bareGet: () =>
          rate(async (i) => JSON.parse((await bare.get(bareKey(i))) as string), concurrency, ROUND_MS),
        storeRead: () => rate((i) => store.read(keyOf(i), { namespace }), concurrency, ROUND_MS),
        bareSet: () =>
          rate((i) => bare.set(bareKey(i), JSON.stringify(sampleValue(i))), concurrency, ROUND_MS),
        storeWrite: () =>
          rate((i) => store.write(keyOf(i), sampleValue(i), { namespace }), concurrency, ROUND_MS),
      })
      const readRatio = results.storeRead! / results.bareGet!
      const writeRatio = results.storeWrite! / results.bareSet!
      const n = `${concurrency} in flight`
      rows.push([`redis bare GET (${n})`, `${fmt(results.bareGet!)} ops/s`, ''])
      rows.push([
        `redis store read (${n})`,
        `${fmt(results.storeRead!)} ops/s`,
        `${readRatio.toFixed(2)}x bare`,
      ])
      rows.push([`redis bare SET (${n})`, `${fmt(results.bareSet!)} ops/s`, ''])
      rows.push([
        `redis store write (${n})`,
        `${fmt(results.storeWrite!)} ops/s`,
        `${writeRatio.toFixed(2)}x bare`,
      ])
      verdicts.push([`redis store read >= 0.8x bare GET (${n})`, readRatio >= 0.8])
      verdicts.push([`redis store write >= 0.8x bare SET (${n})`, writeRatio >= 0.8])
    }
  } finally {
    for (let i = 0; i < KEYS; i++) await store.delete(keyOf(i), { namespace }).catch(() => {})
    const keys = await bare.keys(`micro:bench:${namespace}:*`)
    if (keys.length > 0) await bare.del(...keys)
    await store.close()
    bare.disconnect()
  }
}

await benchFile()
await benchRedis(process.env.MICRO_BENCH_REDIS || process.env.MICRO_TEST_REDIS || 'redis://127.0.0.1:6379')

const width = Math.max(...rows.map((r) => r[0].length))
console.log(`store benchmark (${ROUNDS} round${ROUNDS === 1 ? '' : 's'} of ${ROUND_MS} ms, median)\n`)
for (const [name, value, note] of rows) console.log(`  ${name.padEnd(width)}  ${value.padStart(16)}  ${note}`)
console.log('')
for (const [name, pass] of verdicts) console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${name}`)
