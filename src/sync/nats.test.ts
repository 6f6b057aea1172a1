import { randomUUID } from 'node:crypto'
import { after, describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { syncConformance } from './conformance.js'
import { NatsSync } from './nats.js'

const nats = testServer('nats')
// A bucket of our own, destroyed at the end (fencing needs the bucket kept otherwise).
const bucket = `micro_sync_test_${randomUUID().replaceAll('-', '')}`

async function withBucket(fn: (kv: import('@nats-io/kv').KV) => Promise<void>): Promise<void> {
  const { connect } = await import('@nats-io/transport-node')
  const { Kvm } = await import('@nats-io/kv')
  const nc = await connect({ servers: nats.address })
  try {
    await fn(await new Kvm(nc).open(bucket))
  } finally {
    await nc.close()
  }
}

describe('nats sync', { skip: nats.skip }, () => {
  after(() => withBucket(async (kv) => void (await kv.destroy())))
  syncConformance('nats', () => new NatsSync({ address: nats.address, bucket }), {
    steal: (namespace, id) => withBucket((kv) => kv.purge(NatsSync.keyOf(namespace, id))),
  })
})
