import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import { StoreNotFoundError } from './errors.js'
import type { Store } from './store.js'

/** Options of `storeConformance`. */
export interface StoreConformanceOptions {
  /** Whether records survive close() and a new store on the same engine (all but memory). */
  persistent?: boolean
  /** Engine-level clean-up after each test (drop schemas, buckets, ...), given its namespace. */
  cleanup?: (namespace: string) => Promise<void>
}

/** What every test gets. */
export interface StoreSuite {
  /** Runs `fn` with a new store and a namespace no other run uses; removes what it wrote. */
  withStore(fn: (store: Store, namespace: string) => Promise<void>): Promise<void>
  create: () => Promise<Store> | Store
  options: StoreConformanceOptions
}

export function storeSuite(
  create: () => Promise<Store> | Store,
  options: StoreConformanceOptions,
): StoreSuite {
  return {
    create,
    options,
    async withStore(fn) {
      const store = await create()
      const namespace = `t-${randomUUID()}`
      try {
        await fn(store, namespace)
      } finally {
        await removeNamespace(store, namespace).catch(() => {})
        await store.close()
        await options.cleanup?.(namespace).catch(() => {})
      }
    },
  }
}

/** Deletes every record of a namespace through the Store API itself. */
export async function removeNamespace(store: Store, namespace: string): Promise<void> {
  for (const database of await store.databases({ namespace })) {
    for (const table of await store.tables({ namespace, database })) {
      for (const key of await store.list({ namespace, database, table }))
        await store.delete(key, { namespace, database, table })
    }
  }
}

/** Asserts the promise rejects with a StoreNotFoundError (a 404 MicroError). */
export async function expectNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreNotFoundError, `expected StoreNotFoundError, got ${String(error)}`)
    assert.ok(error instanceof MicroError)
    assert.equal(error.code, 404)
    return true
  })
}

/** Asserts the promise rejects with a MicroError of this code. */
export async function expectCode(promise: Promise<unknown>, code: number, detail?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MicroError, `expected a MicroError ${code}, got ${String(error)}`)
    assert.equal(error.code, code, error.detail)
    if (detail) assert.match(error.detail, detail)
    return true
  })
}

/** Polls `check` until it returns true, failing after `ms`. */
export async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting until ${what}`)
    await sleep(25)
  }
}

/** Whether a read of `key` finds nothing. */
export async function isGone(store: Store, key: string, scope: { namespace: string }): Promise<boolean> {
  try {
    await store.read(key, scope)
    return false
  } catch (error) {
    if (error instanceof StoreNotFoundError) return true
    throw error
  }
}
