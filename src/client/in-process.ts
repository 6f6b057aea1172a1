import { DEFAULT_CONTENT_TYPE } from '../codec/codecs.js'
import { canceled } from '../errors/errors.js'
import type { Server } from '../server/server.js'
import type { Entry } from '../server/stream-dispatch.js'
import { outboundHeaders, signalOf } from './headers.js'
import type { LocalServices } from './local.js'
import type { CallOptions } from './options.js'

/** The options object of a call made without options: the in-process fast path keys on it. */
export const NO_OPTIONS: CallOptions = Object.freeze({})

/**
 * Routes calls to services running in this process: no socket and no codec, the same
 * validation, wrappers, deadline and cancellation as remote calls. Which service runs
 * here is cached per service while the local table is unchanged, and the previous call's
 * target is reused when the next call repeats it (a loop, a hot handler).
 */
export class InProcessCaller {
  readonly #local: LocalServices
  readonly #namespace: string
  readonly #requestTimeout: number
  readonly #caller: string | undefined
  /**
   * What a handler sees as `ctx.metadata` for a call with no metadata of its own: what a
   * remote call carries (`micro-caller`), less the transport's own headers. Shared, frozen.
   */
  readonly #baseMetadata: Record<string, string>
  /** In-process servers by service name (null: none), valid for #version of the local table. */
  readonly #servers = new Map<string, Server | null>()
  #version = -1
  #last: { service: string; entry: Entry; server: Server; version: number } | undefined

  constructor(local: LocalServices, namespace: string, requestTimeout: number, caller: string | undefined) {
    this.#local = local
    this.#namespace = namespace
    this.#requestTimeout = requestTimeout
    this.#caller = caller
    const base: Record<string, string> = {}
    if (caller) base['micro-caller'] = caller
    this.#baseMetadata = Object.freeze(base)
  }

  /**
   * Serve the call in-process when the service runs here (and is not draining); undefined
   * when it must go over the network.
   */
  call(
    service: string,
    endpoint: string,
    request: unknown,
    options: CallOptions,
  ): Promise<unknown> | undefined {
    const last = this.#last
    if (
      last !== undefined &&
      options === NO_OPTIONS &&
      service === last.service &&
      endpoint === last.entry.name &&
      last.version === this.#local.version &&
      !last.server.draining
    ) {
      return last.server.invoke(last.entry, request, this.#baseMetadata, this.#requestTimeout)
    }
    if (options.address !== undefined) return undefined
    const server = this.server(service, options)
    if (server === undefined || server.draining) return undefined
    const entry = server.entry(endpoint)
    if (entry === undefined || entry.stream) return Promise.reject(server.refusal(endpoint, false))
    if (options === NO_OPTIONS) {
      this.#last = { service, entry, server, version: this.#local.version }
      return server.invoke(entry, request, this.#baseMetadata, this.#requestTimeout)
    }
    const metadata =
      options.metadata || options.context
        ? outboundHeaders(options, DEFAULT_CONTENT_TYPE, this.#caller)
        : this.#baseMetadata
    let timeoutMs = options.timeout ?? this.#requestTimeout
    // A handler calling on: the callee's deadline is the caller's own, exactly (a time
    // left, read now, would move it later by however long the call takes to start).
    let deadline: number | undefined
    const inherited = options.context?.deadline
    if (inherited !== undefined) {
      const left = inherited - Date.now()
      if (left < timeoutMs) {
        timeoutMs = left
        deadline = inherited
      }
    }
    const signal = signalOf(options)
    if (signal?.aborted) return Promise.reject(canceled('micro.client', `call to ${endpoint} was canceled`))
    return server.invoke(entry, request, metadata, timeoutMs, signal, deadline)
  }

  /** The in-process server of a service (namespace and version from the options), if any. */
  server(service: string, options: CallOptions): Server | undefined {
    if (options.namespace !== undefined || options.version !== undefined) {
      return this.#local.find(options.namespace ?? this.#namespace, service, options.version)
    }
    if (this.#version !== this.#local.version) {
      this.#servers.clear()
      this.#last = undefined
      this.#version = this.#local.version
    }
    let server = this.#servers.get(service)
    if (server === undefined) {
      server = this.#local.find(this.#namespace, service) ?? null
      this.#servers.set(service, server)
    }
    return server ?? undefined
  }
}
