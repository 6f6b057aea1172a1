import { type MicroError, timeout as timeoutError } from '../../errors/errors.js'
import { DeadlineList, type Tracked } from '../../util/deadline-list.js'
import type { Reply } from '../transport.js'
import type { Route } from './route.js'

/** Deadlines of every outbound NATS call and stream in this process. */
export const outbound = new DeadlineList()

/** Who abandons a call whose deadline passed. */
export interface CallCanceler {
  cancel(pending: PendingCall, error: MicroError): void
}

/** A unary call waiting for its reply; a node of the outbound deadline list. */
export class PendingCall implements Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  expiresAt = 0
  onAbort: (() => void) | undefined = undefined
  /** When the server was last heard about this call, and when a probe went out (0: none). */
  lastHeard = outbound.now()
  probeSent = 0
  /** The number of the request batch that carries it. */
  batch = 0

  constructor(
    readonly owner: CallCanceler,
    readonly id: number,
    readonly route: Route,
    readonly endpoint: string,
    readonly timeout: number | undefined,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (reply: Reply) => void,
    readonly reject: (error: MicroError) => void,
  ) {}

  expire(): void {
    this.owner.cancel(
      this,
      timeoutError('micro.client', `call to ${this.endpoint} timed out after ${this.timeout} ms`),
    )
  }
}
