/**
 * The fixture pairs of the pub/sub phase (subscriber as the server on core 0, publisher as
 * the client on core 1) and of the NATS transport phase, with the settings that pick each
 * system's broker or transport. Every run gets a fresh namespace.
 */
import type { Engines } from './engines.js'
import { type PairSpec, uniqueName } from './remote.js'

/** The pub/sub systems, in the order each round runs them. */
export const PUBSUB_SYSTEMS = ['micro-ts default', 'micro-ts nats', 'moleculer nats'] as const
/** One pub/sub system. */
export type PubSubSystem = (typeof PUBSUB_SYSTEMS)[number]

/** The remote-call-over-NATS systems, in the order each round runs them. */
export const NATS_RPC_SYSTEMS = ['micro-ts nats', 'moleculer nats'] as const
/** One remote-call-over-NATS system. */
export type NatsRpcSystem = (typeof NATS_RPC_SYSTEMS)[number]

/**
 * micro-ts with the default broker (mDNS registry + micro transport, no server) or the NATS
 * broker; Moleculer's balanced events over its NATS transporter.
 */
export function pubsubPair(system: PubSubSystem, engines: Engines): PairSpec {
  const env: Record<string, string> = {
    BENCH_NAMESPACE: uniqueName('bench-pubsub'),
    BENCH_NATS: engines.nats,
  }
  if (system === 'moleculer nats') {
    env.BENCH_MOLECULER_TRANSPORTER = 'nats'
    return {
      system,
      server: 'moleculer-subscriber',
      client: 'moleculer-publisher',
      env,
      enginePid: engines.natsPid,
    }
  }
  const nats = system === 'micro-ts nats'
  Object.assign(env, {
    MICRO_REGISTRY: 'mdns',
    MICRO_TRANSPORT: 'micro',
    MICRO_BROKER: nats ? 'nats' : 'default',
    MICRO_BROKER_ADDRESS: nats ? engines.nats : '',
  })
  return {
    system,
    server: 'micro-subscriber',
    client: 'micro-publisher',
    env,
    enginePid: nats ? engines.natsPid : undefined,
  }
}

/**
 * The remote-call fixtures over NATS: micro-ts with transport and registry on NATS,
 * Moleculer with its NATS transporter. The same Greeter and closed loop as phase 2.
 */
export function natsRpcPair(system: NatsRpcSystem, engines: Engines): PairSpec {
  const env: Record<string, string> = { BENCH_NAMESPACE: uniqueName('bench-rpc'), BENCH_NATS: engines.nats }
  if (system === 'moleculer nats') {
    env.BENCH_MOLECULER_TRANSPORTER = 'nats'
    env.BENCH_NODE_ID = `bench-server-${process.pid}`
    return { system, server: 'moleculer-server', client: 'moleculer-client', env, enginePid: engines.natsPid }
  }
  Object.assign(env, {
    MICRO_TRANSPORT: 'nats',
    MICRO_TRANSPORT_ADDRESS: engines.nats,
    MICRO_REGISTRY: 'nats',
    MICRO_REGISTRY_ADDRESS: engines.nats,
  })
  return { system, server: 'micro-server', client: 'micro-client', env, enginePid: engines.natsPid }
}
