import { HTTP_ADDRESS_ENV, PLATFORM_ADDRESS_ENV } from './options.js'

/**
 * Variables of the server that its runtime's children must not inherit:
 *
 * - the server's own addresses (harmless, but not theirs);
 * - MICRO_SERVER_ADDRESS, every service's own listen address: inherited, it would make
 *   every instance of every service bind one port (a spec's `--env` may still set it);
 * - the server's auth mode and the secrets that are the server's alone: its signing and
 *   sealing keys, its config secret key (children read secrets through the platform's
 *   `Config`, which decrypts), and any credentials the server itself was started with;
 * - a block on an engine of this machine (file, memory, mDNS, the default broker) with its
 *   MICRO_<BLOCK>_ADDRESS (the server's directory): the child reaches that block through
 *   the platform instead, and an address left behind would be taken for the platform's.
 */
const SERVER_ONLY = [
  HTTP_ADDRESS_ENV,
  PLATFORM_ADDRESS_ENV,
  'MICRO_SERVER_ADDRESS',
  'MICRO_AUTH',
  'MICRO_AUTH_ID',
  'MICRO_AUTH_SECRET',
  'MICRO_AUTH_PRIVATE_KEY',
  'MICRO_AUTH_ENCRYPTION_KEY',
  'MICRO_CONFIG_SECRET_KEY',
  'MICRO_READY_FD',
] as const

/** Engines that live in one process or on one machine: a child uses the server's through the platform. */
const LOCAL_ENGINES: Record<string, readonly string[]> = {
  MICRO_REGISTRY: ['', 'mdns', 'memory'],
  MICRO_BROKER: ['', 'default', 'memory'],
  MICRO_EVENTS: ['', 'file', 'memory'],
  MICRO_STORE: ['', 'file', 'memory'],
  MICRO_CONFIG: ['', 'local'],
}

/** Where a child finds the server. */
export interface ChildPlatform {
  /** The platform port, `host:port`: every block, auth keys and trace export go there. */
  platform: string
}

/**
 * The environment the runtime's services start from: the server's variables without the
 * ones that are the server's own, plus MICRO_PLATFORM, so each service uses the server's
 * blocks (and exports its traces to it: MICRO_PLATFORM alone turns export on, to
 * `http://<platform>/Traces/Export`). A block the server's variables set to an engine
 * (MICRO_STORE=postgres ...) stays: the child then uses that shared engine directly, as
 * the server does. The runtime adds MICRO_NAMESPACE and, when auth is enforced, the
 * service's identity.
 */
export function childEnv(serverEnv: NodeJS.ProcessEnv, where: ChildPlatform): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...serverEnv }
  for (const name of SERVER_ONLY) delete env[name]
  for (const [block, local] of Object.entries(LOCAL_ENGINES)) {
    if (!local.includes(env[block]?.trim().toLowerCase() ?? '')) continue
    delete env[block]
    delete env[`${block}_ADDRESS`]
  }
  env.MICRO_PLATFORM = where.platform
  return env
}
