import { badRequest } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import { endpoint } from '../../server/endpoint.js'
import { parseDuration } from '../../util/duration.js'
import { createSchema, deleteSchema, logsSchema, readSchema, updateSchema } from './schemas.js'
import type {
  CreateRequest,
  DeleteRequest,
  LogRecord,
  LogsRequest,
  ProcessRuntime,
  ReadRequest,
  ServiceStatus,
  UpdateRequest,
} from './types.js'

const ID = 'micro.runtime'

/**
 * The runtime on the platform port (Micro v3's `Runtime` service): `Runtime.Create`,
 * `Read`, `Update`, `Delete`, and `Logs`, a server stream. Requests are checked against
 * the JSON Schemas in `schemas.ts` (400 listing every problem); an unknown service is a
 * 404, an existing one a 409.
 *
 * ```ts
 * const platform = createService({ name: 'platform', address: '127.0.0.1:8081' })
 * platform.handle(new Runtime(await LocalRuntime.open({ store })))
 * ```
 */
export class Runtime {
  readonly #runtime: ProcessRuntime

  constructor(runtime: ProcessRuntime) {
    this.#runtime = runtime
  }

  /** Run a service: `{ source, name?, instances?, env?, namespace? }` → `{ service }`. */
  Create = endpoint(
    { request: createSchema },
    async (req: CreateRequest): Promise<{ service: ServiceStatus }> => ({
      service: await this.#runtime.create(req),
    }),
  )

  /** Every service of the namespace, or one by `name` → `{ services }`. */
  Read = endpoint(
    { request: readSchema, idempotent: true },
    async (req: ReadRequest): Promise<{ services: ServiceStatus[] }> => ({
      services: await this.#runtime.read(req),
    }),
  )

  /** Roll a service onto its source as it is now (one instance at a time) → `{ service }`. */
  Update = endpoint(
    { request: updateSchema },
    async (req: UpdateRequest): Promise<{ service: ServiceStatus }> => ({
      service: await this.#runtime.update(req),
    }),
  )

  /** Stop every instance and forget the service (and its logs). */
  Delete = endpoint({ request: deleteSchema }, async (req: DeleteRequest): Promise<Record<string, never>> => {
    await this.#runtime.delete(req)
    return {}
  })

  /** `{ name, since?, lines?, follow? }` → a stream of `{ time, instance, pid, stream, line }`. */
  Logs = endpoint(
    { request: logsSchema, stream: true },
    (input: AsyncIterable<LogsRequest>, ctx: Context): AsyncIterable<LogRecord> =>
      this.#logs(input, ctx.signal),
  )

  async *#logs(input: AsyncIterable<LogsRequest>, signal: AbortSignal): AsyncGenerator<LogRecord> {
    const first = await input[Symbol.asyncIterator]().next()
    if (first.done) throw badRequest(ID, 'Runtime.Logs needs a request message')
    const req = first.value
    const records = this.#runtime.logs(
      { namespace: req.namespace, name: req.name },
      { follow: req.follow, lines: req.lines, since: sinceTime(req.since), signal },
    )
    yield* records
  }
}

/**
 * `since` as ms since the epoch: a number is one already; a string is an ISO time
 * (`2026-05-01T10:00:00Z`) or a duration back from now (`10m`, `2h`, `30s`).
 */
export function sinceTime(since: number | string | undefined, now = Date.now()): number | undefined {
  if (since === undefined) return undefined
  if (typeof since === 'number') return since
  if (/^\d{4}-\d\d-\d\d/.test(since)) {
    const time = Date.parse(since)
    if (Number.isNaN(time)) throw badRequest(ID, `since "${since}" is not a valid time`)
    return time
  }
  try {
    return now - parseDuration(since, 'since')
  } catch (error) {
    throw badRequest(ID, `${(error as Error).message}, or an ISO time`)
  }
}
