import { serviceUnavailable } from '../../errors/errors.js'
import type { LocalRuntime } from '../runtime/local.js'
import type {
  CreateRequest,
  DeleteRequest,
  LogRecord,
  LogsOptions,
  ProcessRuntime,
  ReadRequest,
  ServiceStatus,
  UpdateRequest,
} from '../runtime/types.js'

/**
 * The runtime behind the platform's `Runtime` handler before it exists: the handler must be
 * there when the platform service starts, but the runtime starts the services it ran
 * before, and they need the platform port listening (MICRO_PLATFORM) to come up. So the
 * server opens the runtime once the port listens and calls {@link resolve}; requests made
 * meanwhile wait for it (a failure to open makes them 503s).
 */
export class DeferredRuntime implements ProcessRuntime {
  readonly #ready: Promise<LocalRuntime>
  #resolve!: (runtime: LocalRuntime) => void
  #reject!: (error: Error) => void
  #runtime: LocalRuntime | undefined

  constructor() {
    this.#ready = new Promise<LocalRuntime>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#ready.catch(() => undefined)
  }

  /** The runtime, once open. */
  get current(): LocalRuntime | undefined {
    return this.#runtime
  }

  resolve(runtime: LocalRuntime): void {
    this.#runtime = runtime
    this.#resolve(runtime)
  }

  fail(error: Error): void {
    this.#reject(error)
  }

  async create(request: CreateRequest): Promise<ServiceStatus> {
    return (await this.#get()).create(request)
  }

  async read(request?: ReadRequest): Promise<ServiceStatus[]> {
    return (await this.#get()).read(request)
  }

  async update(request: UpdateRequest): Promise<ServiceStatus> {
    return (await this.#get()).update(request)
  }

  async delete(request: DeleteRequest): Promise<void> {
    return (await this.#get()).delete(request)
  }

  async *logs(
    request: { namespace?: string; name: string },
    options?: LogsOptions,
  ): AsyncIterable<LogRecord> {
    yield* (await this.#get()).logs(request, options)
  }

  async close(): Promise<void> {
    await this.#runtime?.close()
  }

  async #get(): Promise<LocalRuntime> {
    try {
      return this.#runtime ?? (await this.#ready)
    } catch (error) {
      throw serviceUnavailable('micro.runtime', `the runtime could not start: ${(error as Error).message}`)
    }
  }
}
