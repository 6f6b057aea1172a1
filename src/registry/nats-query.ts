import type { Msg, NatsConnection } from '@nats-io/transport-node'

/** One query gathering answers. */
interface Gathering {
  answers: Uint8Array[]
  finish: () => void
  stall: NodeJS.Timeout | undefined
}

/**
 * Scatter-gather over NATS: publish a query with a reply subject under this instance's inbox
 * and gather answers until none has come for `stall` ms after the last (or `timeout` passes
 * without any). When nobody listens, NATS answers 503 at once and the query ends empty.
 */
export class NatsQueries {
  readonly #nc: NatsConnection
  readonly #inbox: string
  readonly #stall: number
  readonly #timeout: number
  readonly #open = new Map<number, Gathering>()
  #nextId = 1

  constructor(nc: NatsConnection, inbox: string, stall: number, timeout: number) {
    this.#nc = nc
    this.#inbox = inbox
    this.#stall = stall
    this.#timeout = timeout
  }

  /** Publish `query` on `subject`; resolves with every answer's payload. */
  ask(subject: string, query: Uint8Array): Promise<Uint8Array[]> {
    const id = this.#nextId++
    return new Promise<Uint8Array[]>((resolve, reject) => {
      const gathering: Gathering = {
        answers: [],
        stall: undefined,
        finish: () => {
          clearTimeout(timer)
          clearTimeout(gathering.stall)
          this.#open.delete(id)
          resolve(gathering.answers)
        },
      }
      const timer = setTimeout(gathering.finish, this.#timeout)
      this.#open.set(id, gathering)
      try {
        this.#nc.publish(subject, query, { reply: `${this.#inbox}.${id}` })
      } catch (error) {
        clearTimeout(timer)
        this.#open.delete(id)
        reject(error)
      }
    })
  }

  /** An answer (or NATS's no-responders status) arrived on the inbox. */
  receive(msg: Msg): void {
    const id = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1))
    const gathering = this.#open.get(id)
    if (!gathering) return
    if (msg.headers?.code === 503 && msg.data.length === 0) {
      gathering.finish()
      return
    }
    gathering.answers.push(msg.data)
    clearTimeout(gathering.stall)
    gathering.stall = setTimeout(gathering.finish, this.#stall)
  }

  /** End every open query with what it has. */
  close(): void {
    for (const gathering of [...this.#open.values()]) gathering.finish()
  }
}
