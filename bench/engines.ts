/**
 * The servers the messaging phases talk to (NATS with JetStream, Redis), from
 * MICRO_TEST_NATS / MICRO_TEST_REDIS with loopback defaults, and their processes when
 * this machine shows them, so their CPU time can be reported on its own.
 */
import { listenerPid } from './proc.js'

/** The engine addresses, and the pids of their server processes when visible. */
export interface Engines {
  nats: string
  redis: string
  natsPid: number | undefined
  redisPid: number | undefined
}

/** The port of a `scheme://host:port` address (the first of a comma-separated list). */
function portOf(address: string, fallback: number): number {
  try {
    const port = Number(new URL(address.split(',')[0]?.trim() ?? '').port)
    return port > 0 ? port : fallback
  } catch {
    return fallback
  }
}

/** Where NATS and Redis are, and their pids (found through the listening socket). */
export function findEngines(env: NodeJS.ProcessEnv = process.env): Engines {
  const nats = env.MICRO_TEST_NATS || 'nats://127.0.0.1:4222'
  const redis = env.MICRO_TEST_REDIS || 'redis://127.0.0.1:6379'
  return {
    nats,
    redis,
    natsPid: listenerPid(portOf(nats, 4222)),
    redisPid: listenerPid(portOf(redis, 6379)),
  }
}
