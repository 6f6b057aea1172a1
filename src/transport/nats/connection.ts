// The NATS connection helper moved to src/nats/connection.ts so every building block that
// speaks NATS (registry, transport, broker, events, store, sync) can share one connection
// per server list. Re-exported here so existing imports keep working.
export {
  type AcquireNatsOptions,
  acquireNats,
  DEFAULT_NATS_ADDRESS,
  loadNats,
  NatsLink,
  type NatsModule,
  natsServers,
} from '../../nats/connection.js'
