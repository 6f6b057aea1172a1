import { type MicroError, timeout as timeoutError } from '../errors/errors.js'
import type { Tracked } from '../util/deadline-list.js'

/** A stream's deadline, as a node of a transport's outbound deadline list. */
export class StreamDeadline implements Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  expiresAt = 0

  constructor(
    readonly stream: { fail(error: MicroError): void },
    readonly endpoint: string,
    readonly timeout: number,
  ) {}

  expire(): void {
    this.stream.fail(
      timeoutError('micro.client', `stream ${this.endpoint} timed out after ${this.timeout} ms`),
    )
  }
}
