import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import { acquireNats, loadNats, type NatsLink as NatsHandle } from '../engines/nats.js'
import { conflict, MicroError, serviceUnavailable } from '../errors/errors.js'
import { importPeer } from '../util/optional-import.js'
import { EVENTS_ERROR_ID } from './names.js'
import { NatsAcks } from './nats-acks.js'
import { type HeaderValues, writeHeaders } from './nats-codec.js'

type JetStreamModule = typeof import('@nats-io/jetstream')

/** What the NATS implementation works with once connected. */
export interface NatsLink {
  /** Our handle on the process's connection (or on the given one). */
  handle: NatsHandle
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  /** The jetstream module (its enums are values). */
  jsmod: JetStreamModule
  headers: () => MsgHdrs
  createInbox: () => string
  /** Acks and naks of delivered messages, sent at the end of the turn and confirmed by the server. */
  acks: NatsAcks
}

/** How the NATS implementation maps namespaces and topics onto JetStream. */
export interface NatsStreamsOptions {
  /** NATS servers, comma-separated. Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of the process's shared one (it is not closed by close()). */
  connection?: NatsConnection
  subjectPrefix: string
  streamPrefix: string
  storage: 'file' | 'memory'
  /** Oldest age a stream keeps, in ms; 0 keeps events until removed. */
  maxAge: number
  replicas: number
}

const STREAM_EXISTS_DIFFERENTLY = 10058

/**
 * The connection (the process's shared one for these servers, src/engines/nats.ts, taken
 * on first use), and one stream per
 * namespace, `<streamPrefix><namespace>` over the subjects `<subjectPrefix>.<namespace>.>`,
 * created on first use. A topic is the subject `<subjectPrefix>.<namespace>.<topic>`.
 */
export class NatsStreams {
  readonly #options: NatsStreamsOptions
  readonly #streams = new Map<string, Promise<string>>()
  #link: Promise<NatsLink> | undefined

  constructor(options: NatsStreamsOptions) {
    this.#options = options
  }

  subject(namespace: string, topic: string): string {
    return `${this.#options.subjectPrefix}.${namespace}.${topic}`
  }

  streamName(namespace: string): string {
    return `${this.#options.streamPrefix}${namespace}`
  }

  link(): Promise<NatsLink> {
    if (!this.#link) {
      const linking = this.#connect()
      // A failed connect is not kept: the next call tries again.
      linking.catch(() => {
        if (this.#link === linking) this.#link = undefined
      })
      this.#link = linking
    }
    return this.#link
  }

  /** The namespace's stream, created when missing; resolves with its name. */
  ensureStream(namespace: string): Promise<string> {
    let known = this.#streams.get(namespace)
    if (!known) {
      known = this.#createStream(namespace)
      known.catch(() => this.#streams.delete(namespace))
      this.#streams.set(namespace, known)
    }
    return known
  }

  /** Store one event; resolves with its stream sequence. `msgId` deduplicates a repeated publish. */
  async publish(
    namespace: string,
    topic: string,
    data: Uint8Array,
    values: HeaderValues,
    msgId: string,
  ): Promise<number> {
    const link = await this.link()
    for (let attempt = 1; ; attempt++) {
      await this.ensureStream(namespace)
      try {
        const ack = await link.js.publish(this.subject(namespace, topic), data, {
          msgID: msgId,
          headers: writeHeaders(link.headers(), values, msgId),
        })
        return ack.seq
      } catch (error) {
        // The stream went away (deleted by hand?): make it again, once.
        if (attempt === 1 && (error as Error).name === 'NoRespondersError') {
          this.#streams.delete(namespace)
          continue
        }
        throw natsError(error, `publishing to ${topic}`)
      }
    }
  }

  async close(): Promise<void> {
    const linking = this.#link
    this.#link = undefined
    if (!linking) return
    const link = await linking.catch(() => undefined)
    if (!link) return
    // What we queued goes out and is confirmed before we let go of the connection.
    await link.acks.drain()
    link.acks.close()
    await link.handle.release()
  }

  async #connect(): Promise<NatsLink> {
    const usedBy = 'the NATS events'
    const [nats, jsmod] = await Promise.all([
      loadNats(usedBy),
      importPeer<JetStreamModule>('@nats-io/jetstream', usedBy),
    ])
    const handle = acquireNats({
      address: this.#options.address,
      connection: this.#options.connection,
      usedBy,
    })
    let nc: NatsConnection
    let jsm: JetStreamManager
    try {
      nc = await handle.ready.catch((error: unknown) => {
        throw serviceUnavailable(EVENTS_ERROR_ID, (error as Error).message)
      })
      jsm = await jsmod.jetstreamManager(nc)
    } catch (error) {
      await handle.release()
      throw error
    }
    const acks = new NatsAcks(nc, nats.createInbox())
    return {
      handle,
      nc,
      js: jsm.jetstream(),
      jsm,
      jsmod,
      headers: nats.headers,
      createInbox: nats.createInbox,
      acks,
    }
  }

  async #createStream(namespace: string): Promise<string> {
    const { jsm, jsmod } = await this.link()
    const name = this.streamName(namespace)
    const { storage, maxAge, replicas } = this.#options
    try {
      await jsm.streams.add({
        name,
        subjects: [`${this.#options.subjectPrefix}.${namespace}.>`],
        storage: storage === 'memory' ? jsmod.StorageType.Memory : jsmod.StorageType.File,
        retention: jsmod.RetentionPolicy.Limits,
        max_age: maxAge * 1_000_000,
        num_replicas: replicas,
      })
    } catch (error) {
      // Made by someone else with other limits: use it as it is.
      if ((error as { code?: unknown }).code !== STREAM_EXISTS_DIFFERENTLY)
        throw natsError(error, `creating the stream ${name}`)
    }
    return name
  }
}

/**
 * A NATS failure as a MicroError: a refused JetStream request (a stream or consumer that
 * conflicts with what exists) is a 409, which consumers do not retry; anything else
 * (connection trouble, timeouts) is a 503 they retry.
 */
export function natsError(error: unknown, doing: string): MicroError {
  if (error instanceof MicroError) return error
  const message = (error as Error)?.message ?? String(error)
  if ((error as Error)?.name === 'JetStreamApiError' || (error as Error)?.name === 'InvalidArgumentError')
    return conflict(EVENTS_ERROR_ID, `NATS refused ${doing}: ${message}`)
  return serviceUnavailable(EVENTS_ERROR_ID, `NATS failed ${doing}: ${message}`)
}
