import type { Broker } from '../broker/broker.js'
import { type PublishOptions, publish as publishMessage } from '../broker/publish.js'
import type { Codec } from '../codec/codec.js'
import { type Codecs, DEFAULT_CONTENT_TYPE, defaultCodecs } from '../codec/codecs.js'
import { badRequest, MicroError, serviceUnavailable, timeout } from '../errors/errors.js'
import { DEFAULT_NAMESPACE, type NodeRecord } from '../registry/registry.js'
import type { PolicyHost } from '../resilience/client-call.js'
import type { ResilienceSpec } from '../resilience/policy.js'
import { type OutboundPolicies, Resilience } from '../resilience/resilience.js'
import type { Selector } from '../selector/selector.js'
import type { Headers, Transport } from '../transport/transport.js'
import { isLost } from '../transport/transport-errors.js'
import { decodeReply, decodeWith, encodeRequest, mayHaveRun, nodeAt } from './bodies.js'
import { ClientStream } from './client-stream.js'
import { deadlineOf, outboundHeaders, signalOf } from './headers.js'
import { InProcessCaller, NO_OPTIONS } from './in-process.js'
import type { LocalServices } from './local.js'
import { openLocalStream } from './local-stream.js'
import type { ServiceLookup } from './lookup.js'
import type { CallOptions } from './options.js'
import { callWithPolicies, policyHost } from './policies.js'
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from './proxy.js'
import { idempotentOn, pauseBeforeRetry, type RetryOptions, RetryPolicy } from './retry.js'
import { type ClientTlsSlot, TransportSet } from './transports.js'
import type { CallFn, ClientRequest, ClientWrapper } from './wrappers.js'

/** Options of `client.publish`. */
export type ClientPublishOptions = Omit<PublishOptions, 'codecs' | 'caller'>

/** What a {@link Client} is made of: how it finds services, the transport it sends on, the selector that picks nodes, and its defaults. */
export interface ClientOptions {
  lookup: ServiceLookup
  transport: Transport
  selector: Selector
  codecs?: Codecs
  /** Default codec for calls. Default `application/json`. */
  contentType?: string
  /** Registry namespace of targets. Default `micro`. */
  namespace?: string
  /** Default whole-call timeout, ms. Default 30 000. */
  requestTimeout?: number
  retry?: RetryOptions
  wrappers?: ClientWrapper[]
  /** Services in this process, called without a socket. `false` to always go remote. */
  local?: LocalServices | false
  /** This service's name, sent to servers as `micro-caller`. */
  caller?: string
  /** Where `publish` sends messages (or a function making it on first use). */
  broker?: Broker | (() => Broker)
  /**
   * Named resilience policies for calls, by target (timeouts, retries, circuit breakers,
   * bulkheads, fallbacks, hedging): see src/resilience. They apply to calls routed through
   * the registry; calls to explicit addresses and in-process calls run without them.
   */
  resilience?: Resilience | ResilienceSpec
  /** TLS for micro-protocol calls, filled in by the service at start (see ClientTls). */
  tls?: ClientTlsSlot
}

/**
 * Calls services: finds nodes through the registry cache, picks one with the selector,
 * applies the deadline (sent as remaining time), retries what the policy allows on
 * another node, and short-circuits services running in this process.
 */
export class Client {
  readonly #lookup: ServiceLookup
  readonly #transports: TransportSet
  readonly #broker: Broker | (() => Broker) | undefined
  readonly #selector: Selector
  readonly #codecs: Codecs
  readonly #contentType: string
  readonly #namespace: string
  readonly #requestTimeout: number
  readonly #retry: RetryPolicy
  readonly #inProcess: InProcessCaller | undefined
  readonly #caller: string | undefined
  readonly #wrappers: ClientWrapper[]
  readonly #resilience: Resilience | undefined
  #policyHost: PolicyHost | undefined
  readonly #defaultCodec: Codec
  /** Headers of a call with no metadata: shared, never mutated. */
  readonly #baseHeaders: Headers
  #wrapped: CallFn | undefined

  constructor(options: ClientOptions) {
    this.#lookup = options.lookup
    this.#transports = new TransportSet(options.transport, undefined, options.tls)
    this.#broker = options.broker
    this.#selector = options.selector
    this.#codecs = options.codecs ?? defaultCodecs
    this.#contentType = options.contentType ?? DEFAULT_CONTENT_TYPE
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE
    this.#requestTimeout = options.requestTimeout ?? 30_000
    this.#retry = new RetryPolicy(options.retry)
    this.#caller = options.caller
    this.#inProcess =
      options.local === false || options.local === undefined
        ? undefined
        : new InProcessCaller(options.local, this.#namespace, this.#requestTimeout, this.#caller)
    this.#wrappers = [...(options.wrappers ?? [])]
    this.#resilience = options.resilience === undefined ? undefined : Resilience.from(options.resilience)
    this.#defaultCodec = this.#codec(this.#contentType)
    this.#baseHeaders = Object.freeze(outboundHeaders(NO_OPTIONS, this.#contentType, this.#caller))
    this.#compose()
  }

  /** The resilience policies calls follow, if any. */
  get resilience(): Resilience | undefined {
    return this.#resilience
  }

  /** The namespace calls go to unless they name another. */
  get namespace(): string {
    return this.#namespace
  }

  /** Add client wrappers (middleware around every call); the first is outermost. */
  wrap(...wrappers: ClientWrapper[]): this {
    this.#wrappers.push(...wrappers)
    this.#compose()
    return this
  }

  /**
   * Call `endpoint` (`Handler.Method`) of `service` and resolve with its decoded reply;
   * rejects with a MicroError.
   */
  call<T = unknown>(
    service: string,
    endpoint: string,
    request: unknown,
    options: CallOptions = NO_OPTIONS,
  ): Promise<T> {
    if (this.#wrapped) return this.#wrapped({ service, endpoint, body: request, options }) as Promise<T>
    return this.#dispatch(service, endpoint, request, options) as Promise<T>
  }

  /**
   * Publish a message on the broker (`payload` encoded as JSON unless `contentType` says
   * otherwise); resolves with the message id. Pass a handler's ctx as `context` to carry
   * trace context and metadata on.
   */
  publish(topic: string, payload: unknown, options: ClientPublishOptions = {}): Promise<string> {
    const broker = typeof this.#broker === 'function' ? this.#broker() : this.#broker
    if (broker === undefined) {
      return Promise.reject(serviceUnavailable('micro.client', 'this client has no broker to publish on'))
    }
    return publishMessage(broker, topic, payload, { ...options, codecs: this.#codecs, caller: this.#caller })
  }

  /** Open a bidirectional stream to a streaming endpoint. */
  stream<Req = unknown, Res = unknown>(
    service: string,
    endpoint: string,
    options: CallOptions = NO_OPTIONS,
  ): ClientStream<Req, Res> {
    const codec = options.codec ?? this.#codec(options.contentType)
    const namespace = options.namespace ?? this.#namespace
    const local = options.address === undefined ? this.#inProcess?.server(service, options) : undefined
    return new ClientStream<Req, Res>(codec, async () => {
      const headers = outboundHeaders(options, codec.contentType, this.#caller)
      headers['content-type'] = codec.contentType
      const streamTimeout =
        options.timeout ?? (options.context?.deadline ? options.context.deadline - Date.now() : undefined)
      const request = { endpoint, headers, timeout: streamTimeout, signal: signalOf(options) }
      if (local) return openLocalStream(local, request)
      const node = await this.#pickNode(service, namespace, options, undefined)
      return this.#transports.for(node, service, namespace).stream(node.address, request)
    })
  }

  /** A typed proxy for a service: `client.service<Greeter>('greeter').Hello({ name })`. */
  service<T extends object>(name: string, options: ServiceClientOptions = {}): ServiceClient<T> {
    return createServiceClient<T>(this, name, options)
  }

  /**
   * The endpoints of a service whose method part is `method` (all of them when `method`
   * is undefined), with their streaming flag, from the in-process server or the registry.
   * Typed proxies resolve `Hello` to `Greeter.Hello` through this.
   */
  async endpointsOf(
    service: string,
    method: string | undefined,
    options: CallOptions = NO_OPTIONS,
  ): Promise<{ name: string; stream: boolean }[]> {
    const namespace = options.namespace ?? this.#namespace
    const suffix = method === undefined ? '' : `.${method}`
    const local = options.address === undefined ? this.#inProcess?.server(service, options) : undefined
    if (local) {
      return local
        .endpoints(true)
        .flatMap((e) =>
          e.name.endsWith(suffix) ? [{ name: e.name, stream: e.metadata.stream === 'true' }] : [],
        )
    }
    const records = this.#lookup.peek(service, namespace) ?? (await this.#lookupService(service, namespace))
    const found = new Map<string, boolean>()
    for (const record of records) {
      if (options.version !== undefined && record.version !== options.version) continue
      for (const e of record.endpoints) {
        if (e.name.endsWith(suffix)) found.set(e.name, e.metadata.stream === 'true')
      }
    }
    return [...found].map(([name, stream]) => ({ name, stream }))
  }

  /** Close pooled connections and registry watches. */
  async close(): Promise<void> {
    await this.#lookup.close()
    await this.#transports.close()
  }

  #compose(): void {
    let fn: CallFn | undefined
    if (this.#wrappers.length > 0) {
      fn = (r: ClientRequest) => this.#dispatch(r.service, r.endpoint, r.body, r.options)
      for (let i = this.#wrappers.length - 1; i >= 0; i--) fn = (this.#wrappers[i] as ClientWrapper)(fn)
    }
    this.#wrapped = fn
  }

  #dispatch(service: string, endpoint: string, request: unknown, options: CallOptions): Promise<unknown> {
    const local = this.#inProcess?.call(service, endpoint, request, options)
    if (local !== undefined) return local
    // Policies, when a target has any; a call without them pays one field read here.
    if (this.#resilience !== undefined && options.address === undefined) {
      const policies = this.#resilience.outbound(service, endpoint)
      if (policies !== undefined) return this.#callWithPolicies(policies, service, endpoint, request, options)
    }
    return this.#callRemote(service, endpoint, request, options)
  }

  async #callRemote(
    service: string,
    endpoint: string,
    request: unknown,
    options: CallOptions,
  ): Promise<unknown> {
    const codec =
      options.codec ??
      (options.contentType === undefined ? this.#defaultCodec : this.#codec(options.contentType))
    const body = encodeRequest(codec, request)
    // The common call (no metadata, no context, default codec) shares one header map.
    const headers =
      options.metadata === undefined && options.context === undefined && codec === this.#defaultCodec
        ? this.#baseHeaders
        : outboundHeaders(options, codec.contentType, this.#caller)
    // One clock read for the first attempt; retries read it again.
    const startedAt = Date.now()
    const deadline = deadlineOf(options, this.#requestTimeout, startedAt)
    const signal = signalOf(options)
    const namespace = options.namespace ?? this.#namespace
    const retries = options.retries ?? this.#retry.retries
    let tried: Set<string> | undefined
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - (attempt === 0 ? startedAt : Date.now())
      if (remaining <= 0) throw timeout('micro.client', `call to ${service} ${endpoint} timed out`)
      const node =
        this.#pickCachedNode(service, namespace, options, tried) ??
        (await this.#pickNode(service, namespace, options, tried))
      // The records the node was routed with: a node that deregisters while the call is in
      // flight (a graceful stop) has left the cache by the time the call fails.
      const routedWith = options.address === undefined ? this.#lookup.peek(service, namespace) : undefined
      try {
        const reply = await this.#transports.for(node, service, namespace).call(node.address, {
          endpoint,
          headers,
          body,
          timeout: remaining,
          signal,
        })
        this.#selector.mark(node)
        if (options.codec !== undefined) return decodeWith(codec, reply.body)
        return decodeReply(codec, this.#codecs, reply.body, reply.headers?.['content-type'])
      } catch (error) {
        this.#selector.mark(node, error)
        const idempotent =
          options.address === undefined &&
          (idempotentOn(routedWith, node.id, endpoint) ||
            idempotentOn(this.#lookup.peek(service, namespace), node.id, endpoint))
        if (
          attempt >= retries ||
          !this.#retry.shouldRetry(error, attempt + 1, { service, endpoint, idempotent })
        ) {
          throw isLost(error) && !idempotent ? mayHaveRun(error as MicroError, endpoint) : error
        }
        tried ??= new Set()
        tried.add(node.id)
        const pause = Math.min(this.#retry.backoff(attempt + 1), Math.max(0, deadline - Date.now() - 1))
        await pauseBeforeRetry(pause, signal, endpoint)
      }
    }
  }

  /** A call under its resilience policies (src/client/policies.ts). */
  #callWithPolicies(
    policies: OutboundPolicies,
    service: string,
    endpoint: string,
    request: unknown,
    options: CallOptions,
  ): Promise<unknown> {
    let codec: Codec
    let body: Uint8Array
    try {
      codec =
        options.codec ??
        (options.contentType === undefined ? this.#defaultCodec : this.#codec(options.contentType))
      body = encodeRequest(codec, request)
    } catch (error) {
      return Promise.reject(error)
    }
    this.#policyHost ??= policyHost({
      lookup: this.#lookup,
      lookupService: (name, namespace) => this.#lookupService(name, namespace),
      selector: this.#selector,
      transports: this.#transports,
      decode: (reply, replyCodec, explicit) =>
        explicit
          ? decodeWith(replyCodec, reply.body)
          : decodeReply(replyCodec, this.#codecs, reply.body, reply.headers?.['content-type']),
    })
    // One clock reading: the call's deadline and its policy timeout both count from it.
    const startedAt = Date.now()
    return callWithPolicies(this.#policyHost, policies, this.#retry, options, {
      service,
      endpoint,
      request,
      namespace: options.namespace ?? this.#namespace,
      version: options.version,
      headers:
        options.metadata === undefined && options.context === undefined && codec === this.#defaultCodec
          ? this.#baseHeaders
          : outboundHeaders(options, codec.contentType, this.#caller),
      body,
      codec,
      explicitCodec: options.codec !== undefined,
      signal: signalOf(options),
      deadline: deadlineOf(options, this.#requestTimeout, startedAt),
      startedAt,
    })
  }

  /** A node picked from fresh cached records without waiting, or undefined when that is not possible. */
  #pickCachedNode(
    service: string,
    namespace: string,
    options: CallOptions,
    tried: ReadonlySet<string> | undefined,
  ): NodeRecord | undefined {
    if (options.address !== undefined || tried !== undefined) return undefined
    const records = this.#lookup.peek(service, namespace)
    if (records === undefined) return undefined
    return this.#selector.select(
      records,
      options.version === undefined ? undefined : { version: options.version },
    )
  }

  /** A node for the next attempt: a direct address, or one the selector picks. */
  async #pickNode(
    service: string,
    namespace: string,
    options: CallOptions,
    tried: ReadonlySet<string> | undefined,
  ): Promise<NodeRecord> {
    if (options.address !== undefined) {
      const addresses = typeof options.address === 'string' ? [options.address] : options.address
      const fresh = addresses.filter((a) => !tried?.has(a))
      const list = fresh.length > 0 ? fresh : addresses
      const address = list[Math.floor(Math.random() * list.length)]
      if (address === undefined) throw badRequest('micro.client', 'the address option is empty')
      return nodeAt(address)
    }
    const records = this.#lookup.peek(service, namespace) ?? (await this.#lookupService(service, namespace))
    const select = { version: options.version, exclude: tried }
    const node =
      this.#selector.select(records, select) ??
      (tried ? this.#selector.select(records, { version: options.version }) : undefined)
    if (!node) {
      throw serviceUnavailable(
        'micro.client',
        `no node of service ${service}${options.version ? ` version ${options.version}` : ''} is available`,
      )
    }
    return node
  }

  async #lookupService(service: string, namespace: string) {
    try {
      return await this.#lookup.getService(service, namespace)
    } catch (error) {
      const e = MicroError.from(error, 'micro.client')
      if (e.code === 404)
        throw serviceUnavailable('micro.client', `service ${service} not found in namespace ${namespace}`)
      throw e
    }
  }

  #codec(contentType: string | undefined): Codec {
    const codec = this.#codecs.get(contentType ?? this.#contentType)
    if (!codec) throw badRequest('micro.client', `no codec for content type ${contentType}`)
    return codec
  }
}
