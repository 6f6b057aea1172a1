import { isIPv4 } from 'node:net'
import { platformAddress } from '../engines/platform.js'
import { REGISTRY_ENGINES } from './engine-names.js'
import { MdnsRegistry, type MdnsRegistryOptions } from './mdns.js'
import { sharedMemoryRegistry } from './memory-shared.js'
import { NatsRegistry } from './nats.js'
import type { Registry } from './registry.js'
import { ServiceRegistry } from './service.js'

export { REGISTRY_ENGINES, REGISTRY_NAMES } from './engine-names.js'

/**
 * A registry by name, as `MICRO_REGISTRY` / `MICRO_REGISTRY_ADDRESS` configure it:
 *
 * - `mdns` (the default): multicast DNS on loopback. `address` is the multicast group as
 *   `ip[:port]` (e.g. `224.0.0.251:5353`), or `mdns://ip:port?interface=<IPv4>` to discover
 *   across hosts through a LAN interface.
 * - `memory`: one registry shared by everything in this process; `close()` on what this
 *   returns ends only its own watchers.
 * - `nats`: core NATS, across machines; `address` is the NATS servers, comma-separated URLs
 *   (default `nats://127.0.0.1:4222`). It connects on first use.
 * - `service`: the registry of a platform (`micro server`); `address` is its platform port
 *   `host:port` (default: MICRO_PLATFORM of `env`, else `127.0.0.1:8081`).
 *
 * `mdns` are options of an mDNS registry (e.g. its timeouts). Throws a TypeError naming the
 * known engines for any other name.
 */
export function createRegistry(
  name?: string,
  address?: string,
  env: NodeJS.ProcessEnv = process.env,
  mdns: MdnsRegistryOptions = {},
): Registry {
  switch (REGISTRY_ENGINES.pick(name)) {
    case 'mdns':
      return new MdnsRegistry({ ...mdns, ...(address ? parseMdnsAddress(address) : {}) })
    case 'memory':
      return sharedMemoryRegistry()
    case 'nats':
      return new NatsRegistry(address ? { address } : {})
    case 'service':
      return new ServiceRegistry({ address: platformAddress(address, env) })
  }
}

/**
 * The registry `MICRO_REGISTRY` and `MICRO_REGISTRY_ADDRESS` name (mDNS when unset, the
 * platform's when only MICRO_PLATFORM is set). An unknown name is a TypeError such as
 * `MICRO_REGISTRY=consul: unknown registry engine; known: ...`.
 */
export function registryFromEnv(env: NodeJS.ProcessEnv = process.env): Registry {
  const name = REGISTRY_ENGINES.fromEnv(env, 'MICRO_REGISTRY')
  return createRegistry(name, env.MICRO_REGISTRY_ADDRESS || undefined, env)
}

/**
 * `ip[:port]` or `mdns://[ip[:port]][?interface=<IPv4>&timeout=<ms>]` as MdnsRegistry options
 * (`timeout`: how long lookups gather answers, `queryTimeout`).
 */
export function parseMdnsAddress(address: string): MdnsRegistryOptions {
  const text = address.trim()
  let url: URL
  try {
    url = new URL(text.includes('://') ? text : `mdns://${text}`)
  } catch {
    throw new TypeError(`bad mdns registry address "${address}": expected ip[:port], e.g. 224.0.0.251:5353`)
  }
  const options: MdnsRegistryOptions = {}
  if (url.hostname) {
    if (!isMulticastV4(url.hostname)) {
      throw new TypeError(
        `bad mdns registry address "${address}": ${url.hostname} is not an IPv4 multicast group`,
      )
    }
    options.ip = url.hostname
  }
  if (url.port) options.port = Number(url.port)
  const iface = url.searchParams.get('interface')
  if (iface !== null) {
    if (!isIPv4(iface))
      throw new TypeError(`bad mdns registry address "${address}": interface must be an IPv4 address`)
    options.interface = iface
  }
  const timeout = url.searchParams.get('timeout')
  if (timeout !== null) {
    const ms = Number(timeout)
    if (!Number.isInteger(ms) || ms < 1 || ms > 60_000)
      throw new TypeError(`bad mdns registry address "${address}": timeout must be whole ms, 1 to 60000`)
    options.queryTimeout = ms
  }
  return options
}

function isMulticastV4(host: string): boolean {
  if (!isIPv4(host)) return false
  const first = Number(host.split('.')[0])
  return first >= 224 && first <= 239
}
