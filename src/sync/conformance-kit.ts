import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import { type LeaderStatus, LockTimeoutError, type Sync } from './sync.js'

/** Options of `syncConformance`. */
export interface SyncConformanceOptions {
  /**
   * Take a lock away from its holder behind its back (the engine forgets it or ends the
   * holder's session), to test that the holder notices. Tests needing it skip without.
   */
  steal?: (namespace: string, id: string) => Promise<void>
}

export interface SyncSuite {
  /** Runs `fn` with `count` Sync instances on one engine and a fresh namespace; closes them. */
  withSyncs(count: number, fn: (syncs: Sync[], namespace: string) => Promise<void>): Promise<void>
  options: SyncConformanceOptions
}

export function syncSuite(create: () => Promise<Sync> | Sync, options: SyncConformanceOptions): SyncSuite {
  return {
    options,
    async withSyncs(count, fn) {
      const syncs: Sync[] = []
      try {
        for (let i = 0; i < count; i++) syncs.push(await create())
        await fn(syncs, `t-${randomUUID()}`)
      } finally {
        await Promise.all(syncs.map((s) => s.close()))
      }
    },
  }
}

/** Asserts a LockTimeoutError (a 409 MicroError). */
export async function expectTimeout(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LockTimeoutError, `expected LockTimeoutError, got ${String(error)}`)
    assert.ok(error instanceof MicroError)
    assert.equal(error.code, 409)
    return true
  })
}

/** Asserts a MicroError with this code. */
export async function expectCode(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MicroError, `expected a MicroError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, error.detail)
    return true
  })
}

/** Collects a leader's status changes as they come. */
export function recordStatus(status: AsyncIterable<LeaderStatus>): {
  seen: LeaderStatus[]
  ended: Promise<void>
} {
  const seen: LeaderStatus[] = []
  const ended = (async () => {
    for await (const s of status) seen.push(s)
  })()
  return { seen, ended }
}

/** Polls `check` until true, failing after `ms`. */
export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting until ${what}`)
    await sleep(10)
  }
}

/** Resolves when the signal aborts, failing after `ms`. */
export function aborted(signal: AbortSignal, ms: number, what: string): Promise<void> {
  return until(() => signal.aborted, ms, what)
}
