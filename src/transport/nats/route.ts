import type { MuxFrame } from './mux-frame.js'
import { type Mailer, Outbox } from './outbox.js'
import { CONTROL_SUFFIX, MUX_SUFFIX } from './subject.js'

/** What a route's "no responders" answer was about, read from the subject it came to. */
export type Undelivered =
  | { kind: 'requests'; batch: number }
  | { kind: 'control'; batch: number }
  | { kind: 'peer'; peer: number }

/**
 * The client's session with one node subject, like one micro-protocol connection: its
 * subject `<client inbox>.<route id>` is where every instance serving the node sends its
 * frames. Requests go in batches to `<node>._mux` (queue group: one instance takes each
 * batch), cancels and probes to `<node>._ctl` (every instance hears them), the frames of an
 * open stream to the instance that took it. Each message's reply subject names what it was,
 * so NATS's "no responders" answer (sent to the reply subject) says what was not delivered:
 * `<session>.<batch>`, `<session>.c<last request batch sent>`, `<session>.p<instance>`.
 */
export class Route {
  readonly id: number
  readonly address: string
  readonly session: string
  readonly requests: Outbox
  readonly control: Outbox
  /** Calls and streams in flight, and when one last started (for idle pruning). */
  inFlight = 0
  lastUsed = 0
  /**
   * For finding a dead node without a probe per call: unary calls in flight, how many have
   * settled so far, the count at the last check and whether calls were in flight then, and
   * the id of the latest call (what a node probe asks about).
   */
  calls = 0
  settled = 0
  settledAtCheck = 0
  busyAtCheck = false
  lastCallId = 0
  readonly #mailer: Mailer
  readonly #peers = new Map<string, { outbox: Outbox; number: number }>()

  constructor(
    mailer: Mailer,
    id: number,
    address: string,
    inbox: string,
    onRequestsFailed: (route: Route, batch: number, error: unknown) => void,
  ) {
    this.#mailer = mailer
    this.id = id
    this.address = address
    this.session = `${inbox}.${id}`
    const session = this.session
    this.requests = new Outbox(
      mailer,
      address + MUX_SUFFIX,
      (seq) => `${session}.${seq}`,
      (seq, error) => onRequestsFailed(this, seq, error),
    )
    this.control = new Outbox(mailer, address + CONTROL_SUFFIX, () => `${session}.c${this.requests.seq - 1}`)
  }

  /** The outbox to the instance at `subject` (from an Open's reply subject) and its number. */
  peer(subject: string): { outbox: Outbox; number: number } {
    let peer = this.#peers.get(subject)
    if (peer === undefined) {
      const number = this.#peers.size + 1
      peer = { outbox: new Outbox(this.#mailer, subject, `${this.session}.p${number}`), number }
      this.#peers.set(subject, peer)
    }
    return peer
  }

  /** A Cancel or Ping about call `id`, after any request still waiting (it may be that call's). */
  sendControl(type: typeof MuxFrame.Cancel | typeof MuxFrame.Ping, id: number): void {
    if (this.requests.pending > 0) this.requests.flush()
    try {
      this.control.frame(type, 0, id, undefined, undefined)
    } catch {
      // cannot happen for an empty frame; the caller is failed anyway
    }
  }

  /** Which of this route's messages a "no responders" answer to `tag` (after `<session>.`) is about. */
  undelivered(tag: string): Undelivered | undefined {
    const first = tag.charCodeAt(0)
    if (first === 0x63 /* c */) return { kind: 'control', batch: Number(tag.slice(1)) }
    if (first === 0x70 /* p */) return { kind: 'peer', peer: Number(tag.slice(1)) }
    const batch = Number(tag)
    return Number.isInteger(batch) && batch > 0 ? { kind: 'requests', batch } : undefined
  }

  /** Whether request batch `batch` has been sent. */
  sent(batch: number): boolean {
    return batch < this.requests.seq
  }

  /** Forget everything waiting to be sent; the route is not used again. */
  discard(): void {
    this.requests.discard()
    this.control.discard()
    for (const peer of this.#peers.values()) peer.outbox.discard()
  }
}
