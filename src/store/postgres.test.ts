import { describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { storeConformance } from './conformance.js'
import { PostgresStore } from './postgres.js'

const postgres = testServer('postgres')

/** Drops the schemas of a test namespace (and of `<namespace>-other`). */
async function dropSchemas(namespace: string): Promise<void> {
  const { Client, escapeIdentifier } = await import('pg')
  const client = new Client({ connectionString: postgres.address })
  await client.connect()
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`micro_store_${namespace}%`],
    )
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${escapeIdentifier(nspname)} CASCADE`)
  } finally {
    await client.end()
  }
}

describe('postgres store', { skip: postgres.skip }, () => {
  storeConformance('postgres', () => new PostgresStore({ address: postgres.address, sweepInterval: 200 }), {
    persistent: true,
    cleanup: dropSchemas,
  })
})
