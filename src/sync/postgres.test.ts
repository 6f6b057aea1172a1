import { randomUUID } from 'node:crypto'
import { after, describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { syncConformance } from './conformance.js'
import { PostgresSync } from './postgres.js'

const postgres = testServer('postgres')
// A schema of our own for the fencing sequence, dropped at the end.
const schema = `micro_sync_test_${randomUUID().replaceAll('-', '')}`

async function withClient(fn: (client: import('pg').Client) => Promise<void>): Promise<void> {
  const { Client } = await import('pg')
  const client = new Client({ connectionString: postgres.address })
  await client.connect()
  try {
    await fn(client)
  } finally {
    await client.end()
  }
}

/** Ends the session holding the advisory lock, as if the server restarted under it. */
async function steal(namespace: string, id: string): Promise<void> {
  const key = BigInt.asUintN(64, PostgresSync.advisoryKey(namespace, id))
  await withClient(async (client) => {
    await client.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
      [String(key >> 32n), String(key & 0xffffffffn)],
    )
  })
}

describe('postgres sync', { skip: postgres.skip }, () => {
  after(() =>
    withClient(async (client) => void (await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))),
  )
  syncConformance('postgres', () => new PostgresSync({ address: postgres.address, schema }), { steal })
})
