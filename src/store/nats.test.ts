import { describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { storeConformance } from './conformance.js'
import { NatsStore } from './nats.js'
import { namespaceBucketPrefix } from './nats-names.js'

const nats = testServer('nats')

/** Destroys the buckets of a test namespace (and of `<namespace>-other`). */
async function destroyBuckets(namespace: string): Promise<void> {
  const { connect } = await import('@nats-io/transport-node')
  const { Kvm } = await import('@nats-io/kv')
  const nc = await connect({ servers: nats.address })
  try {
    const kvm = new Kvm(nc)
    const prefix = namespaceBucketPrefix('micro_store_', namespace).slice(0, -1)
    const names: string[] = []
    for await (const status of kvm.list()) if (status.bucket.startsWith(prefix)) names.push(status.bucket)
    for (const name of names) await (await kvm.open(name)).destroy()
  } finally {
    await nc.close()
  }
}

describe('nats store', { skip: nats.skip }, () => {
  storeConformance('nats', () => new NatsStore({ address: nats.address, sweepInterval: 200 }), {
    persistent: true,
    cleanup: destroyBuckets,
  })
})
