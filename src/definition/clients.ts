import type { Client } from '../client/client.js'
import type { ServiceClient, ServiceClientOptions } from '../client/proxy.js'
import { newError } from '../errors/errors.js'
import type { ClientConfig } from './config.js'

const CLIENT = Symbol.for('micro-ts.client-spec')

/** Options of a declared client; `[clients.<name>]` in the toml can set the same. */
export interface ClientSpecOptions {
  /** The service's registered name; default the key in `clients`. */
  service?: string
  /** The handler name (`Users` in `Users.Get`); found from the registry when omitted. */
  handler?: string
}

/** A declared client of type `T` (a handler class or interface); see `clientSpec<T>()`. */
export interface ClientSpec<T extends object = any> {
  readonly [CLIENT]: true
  readonly options: ClientSpecOptions
  /** Type carrier only; never set. */
  readonly type?: T
}

/** The keys of `clients` in a definition. */
export type ClientSpecs = Readonly<Record<string, ClientSpec>>

/** The injected clients: each a typed proxy of its handler. */
export type InferClients<C> = 0 extends 1 & C
  ? Readonly<Record<string, any>>
  : { readonly [K in keyof C]: C[K] extends ClientSpec<infer T> ? ServiceClient<T> : never }

/**
 * Declare a service this one calls; handlers get it typed as `clients.<key>`:
 *
 * ```ts
 * defineService({ clients: { users: clientSpec<Users>() }, rpc: ({ clients }) => new Orders(clients.users) })
 * ```
 */
export function clientSpec<T extends object>(options: ClientSpecOptions = {}): ClientSpec<T> {
  return { [CLIENT]: true, options }
}

/** Whether `value` was made by `clientSpec()`. */
export function isClientSpec(value: unknown): value is ClientSpec {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CLIENT] === true
}

/**
 * The clients handlers get: one typed proxy per client declared in the definition or the
 * toml (the toml's settings win), or the fake given for it in tests.
 */
export function buildClients(
  client: Client,
  specs: ClientSpecs,
  configs: ReadonlyMap<string, ClientConfig>,
  fakes: Readonly<Record<string, object>> = {},
): Record<string, unknown> {
  const clients: Record<string, unknown> = {}
  const names = new Set([...Object.keys(specs), ...configs.keys(), ...Object.keys(fakes)])
  for (const name of names) {
    const fake = fakes[name]
    if (fake !== undefined) {
      clients[name] = fakeClient(name, fake)
      continue
    }
    const spec = specs[name]?.options ?? {}
    const config = configs.get(name)
    const options: ServiceClientOptions = {}
    if (spec.handler !== undefined) options.handler = spec.handler
    if (config?.version !== undefined) options.version = config.version
    if (config?.namespace !== undefined) options.namespace = config.namespace
    if (config?.address !== undefined) options.address = config.address
    if (config?.timeout !== undefined) options.timeout = config.timeout
    if (config?.retries !== undefined) options.retries = config.retries
    const service = config && config.service !== name ? config.service : (spec.service ?? name)
    clients[name] = client.service(service, options)
  }
  return clients
}

/**
 * A fake client for tests: its methods may return plain values or promises; the proxy
 * always returns promises, as a real client does, and a method the fake lacks rejects
 * with a 501 naming it.
 */
export function fakeClient(name: string, fake: object): object {
  return new Proxy(fake, {
    get(target, property, receiver) {
      if (typeof property !== 'string') return Reflect.get(target, property, receiver)
      if (property === 'then' || property === 'toJSON') return undefined
      const member = Reflect.get(target, property, receiver)
      if (typeof member !== 'function') {
        return () =>
          Promise.reject(newError('micro.testing', `the fake ${name} client has no method ${property}`, 501))
      }
      return (...args: unknown[]) => {
        try {
          const result = member.apply(target, args)
          if (isAsyncIterable(result)) return result
          return Promise.resolve(result)
        } catch (error) {
          return Promise.reject(error)
        }
      }
    },
  })
}

function isAsyncIterable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value
}
