import { AUTH_ERROR_ID, SCOPE_ADMIN } from '../../auth/auth.js'
import { callAuthOf } from '../../auth/call-auth.js'
import { belongsTo, PLATFORM_NAMESPACE } from '../../auth/rules.js'
import { forbidden, unauthorized } from '../../errors/errors.js'
import { isEndpoint, isNode, isObject, isStringMap } from '../../registry/records.js'
import type { Registry as RegistryEngine, ServiceRecord, WatchEvent } from '../../registry/registry.js'
import type { Context } from '../../server/context.js'
import {
  type Fields,
  fields,
  invalid,
  namespaceOf,
  optionalNumber,
  optionalString,
  requiredString,
  type StreamHandlerOptions,
  streamSignal,
} from './wire.js'

/** What `Registry.Watch` sends first, once the watch is in place: later changes are seen. */
export interface WatchReady {
  ready: true
}

/** A message of `Registry.Watch`: the ready mark, then one change each. */
export type WatchMessage = WatchReady | WatchEvent

/**
 * The registry as a service: `Registry.Register`, `Deregister`, `GetService`,
 * `ListServices` and `Watch` (a server stream), in front of the server's registry engine.
 * Every request names its `namespace` (default `micro`; `*` lists or watches them all).
 */
export class Registry {
  readonly #registry: RegistryEngine
  readonly #closing: AbortSignal | undefined

  constructor(registry: RegistryEngine, options: StreamHandlerOptions = {}) {
    this.#registry = registry
    this.#closing = options.closing
  }

  /**
   * `{namespace?, service, ttl?}`: add or renew the nodes of a service version. With auth,
   * only the service's own account (by token or certificate) or an admin may.
   */
  async Register(request: unknown, ctx?: Context): Promise<Record<string, never>> {
    const req = fields(request, 'Registry.Register')
    const ttl = optionalNumber(req, 'ttl')
    if (ttl !== undefined && ttl <= 0) throw invalid('ttl must be a positive number of ms')
    const service = serviceOf(req)
    const namespace = namespaceOf(req)
    if (ctx) checkRegistrant(ctx, service.name, namespace)
    await this.#registry.register(service, { namespace, ttl })
    return {}
  }

  /** `{namespace?, service}`: remove the given nodes (the same callers as Register). */
  async Deregister(request: unknown, ctx?: Context): Promise<Record<string, never>> {
    const req = fields(request, 'Registry.Deregister')
    const service = serviceOf(req)
    const namespace = namespaceOf(req)
    if (ctx) checkRegistrant(ctx, service.name, namespace)
    await this.#registry.deregister(service, { namespace })
    return {}
  }

  /** `{namespace?, service: name}` → `{services}`: every version with its nodes; 404 when none. */
  async GetService(request: unknown): Promise<{ services: ServiceRecord[] }> {
    const req = fields(request, 'Registry.GetService')
    const name = requiredString(req, 'service')
    return { services: await this.#registry.getService(name, { namespace: namespaceOf(req) }) }
  }

  /** `{namespace?}` → `{services}`; `*` lists every namespace. */
  async ListServices(request: unknown): Promise<{ services: ServiceRecord[] }> {
    const req = fields(request ?? {}, 'Registry.ListServices')
    return { services: await this.#registry.listServices({ namespace: namespaceOf(req, true) }) }
  }

  /**
   * The first message is `{namespace?, service?}`; the stream answers `{ready: true}` once
   * the watch is in place, then `{action, namespace, service}` per change until the caller
   * cancels (a half-close after the request is fine: this is a server stream).
   */
  async *Watch(input: AsyncIterable<unknown>, ctx: Context): AsyncGenerator<WatchMessage> {
    const iterator = input[Symbol.asyncIterator]()
    const first = await iterator.next()
    if (first.done) throw invalid('Registry.Watch needs a first message {namespace?, service?}')
    const req = fields(first.value, 'Registry.Watch')
    const watcher = this.#registry.watch({
      namespace: namespaceOf(req, true),
      service: optionalString(req, 'service'),
      signal: streamSignal(ctx, this.#closing),
    })
    // A server stream: the caller may half-close after its request; only a cancel (or a
    // lost connection, which aborts ctx.signal) ends the watch. Later messages are ignored.
    void drain(iterator)
    try {
      yield { ready: true }
      yield* watcher
    } finally {
      watcher.stop()
    }
  }
}

/**
 * Who may register (or deregister) service `name`: its own service account (id = name, of
 * the namespace or of `micro`), by token or client certificate, or an admin user. Without
 * auth (no wrapper), or an anonymous caller of an open platform, anyone may, as before.
 */
function checkRegistrant(ctx: Context, name: string, namespace: string): void {
  const auth = callAuthOf(ctx)
  if (auth === undefined) return
  const account = auth.caller?.account
  if (account === undefined) {
    if (auth.mode === 'open') return
    throw unauthorized(AUTH_ERROR_ID, `registering ${name}: log in or call with the service's certificate`)
  }
  const own =
    account.type === 'service' &&
    account.id === name &&
    (account.issuer === namespace || account.issuer === PLATFORM_NAMESPACE)
  const admin =
    account.type === 'user' && account.scopes.includes(SCOPE_ADMIN) && belongsTo(account, namespace)
  if (!own && !admin) {
    throw forbidden(
      AUTH_ERROR_ID,
      `account ${account.id} may not register service ${name}: a service registers under its own name`,
    )
  }
}

async function drain(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    while (!(await iterator.next()).done) {}
  } catch {
    // a canceled stream: ctx.signal ends the watch
  }
}

/** The `service` field as a checked record, or a 400 saying what is wrong. */
function serviceOf(req: Fields): ServiceRecord {
  const value = req.service
  if (!isObject(value)) throw invalid('service must be a service record {name, version, nodes, ...}')
  const { name, version, metadata, endpoints, nodes } = value
  if (typeof name !== 'string' || name === '') throw invalid('service.name is required')
  if (typeof version !== 'string') throw invalid('service.version must be a string')
  if (metadata !== undefined && !isStringMap(metadata))
    throw invalid('service.metadata must be an object of strings')
  if (endpoints !== undefined && (!Array.isArray(endpoints) || !endpoints.every(isEndpoint)))
    throw invalid('service.endpoints must be a list of {name, metadata, request?, response?}')
  if (!Array.isArray(nodes) || !nodes.every(isNode))
    throw invalid('service.nodes must be a list of {id, address, metadata}')
  return {
    name,
    version,
    metadata: (metadata as Record<string, string> | undefined) ?? {},
    endpoints: (endpoints as ServiceRecord['endpoints'] | undefined) ?? [],
    nodes,
  }
}
