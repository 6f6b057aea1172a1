import { homedir } from 'node:os'
import { join } from 'node:path'
import { conflict, MicroError, newError, notFound } from '../../errors/errors.js'
import { validate } from '../../server/schema.js'
import type { StandardSchema } from '../../server/standard-schema.js'
import type { Store } from '../../store/store.js'
import type { BackoffOptions } from './backoff.js'
import { type CommandContext, commandFor, defaultMicroCli } from './command.js'
import { type LogLimits, ServiceLog } from './log-file.js'
import { type ManagedService, serviceStatus } from './managed.js'
import { createSchema, deleteSchema, NAME_PATTERN, readSchema, updateSchema } from './schemas.js'
import { resolveSource } from './source.js'
import { deleteState, loadStates, type ServiceState, saveState, stateKey, stopOrphan } from './state.js'
import { type RestartPolicy, Supervisor } from './supervisor.js'
import type {
  CreateRequest,
  DeleteRequest,
  LogRecord,
  LogsOptions,
  ProcessRuntime,
  ReadRequest,
  ServiceSpec,
  ServiceStatus,
  UpdateRequest,
} from './types.js'

const ID = 'micro.runtime'
const DEFAULT_NAMESPACE = 'micro'
/** Names the runtime sets itself; a spec may not. */
const RESERVED_ENV = new Set(['MICRO_READY_FD', 'MICRO_NAMESPACE'])

/**
 * Identities for the services a runtime runs (the platform server makes a service account
 * per service when it enforces auth). The variables reach the processes only: they are
 * never stored with the service's spec nor shown in its status.
 */
export interface ServiceIdentities {
  /** Variables that give a service its identity; asked when it is created, updated or started again. */
  envFor(namespace: string, name: string): Promise<Record<string, string>>
  /** The service is gone (killed, or its creation failed): drop its identity. */
  remove(namespace: string, name: string): Promise<void>
}

/** Options of {@link LocalRuntime.open}. */
export interface LocalRuntimeOptions {
  /** Where services are recorded, so a restarted runtime runs them again (the server's file store). */
  store: Store
  /** Log files go under `<dir>/logs/<namespace>/<name>/`. Default `~/.micro/runtime`. */
  dir?: string
  /** The environment instances inherit (MICRO_REGISTRY and the like). Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Node arguments that run the `micro` CLI. Default: this package's `dist/cli/main.js`. */
  microCli?: string[]
  backoff?: BackoffOptions
  restart?: RestartPolicy
  /** SIGTERM to SIGKILL, ms. Default 10 000. */
  stopTimeout?: number
  /** How long a start may take to become ready, ms. Default 60 000. */
  readyTimeout?: number
  /** Up this long counts as ready for entries that signal nothing, ms. Default 1000. */
  readyAfter?: number
  logs?: LogLimits
  /** Identities for the services (none: they run with the runtime's environment alone). */
  identities?: ServiceIdentities
}

/**
 * The local process runtime: each service is a {@link Supervisor} of N processes on
 * this machine, its output in rotated files, its spec and process ids in the store.
 * A runtime opened on a store that a previous runtime left services in stops the
 * processes that runtime left behind (checked by pid and start time) and starts the
 * services again: their output pipes went with the old runtime, so they cannot be adopted.
 */
export class LocalRuntime implements ProcessRuntime {
  readonly #options: LocalRuntimeOptions
  readonly #dir: string
  readonly #microCli: string[]
  readonly #services = new Map<string, ManagedService>()
  /** Keys being created, so two creates of one name cannot both pass the check. */
  readonly #reserved = new Set<string>()
  #closed = false

  private constructor(options: LocalRuntimeOptions) {
    this.#options = options
    this.#dir = options.dir ?? join(homedir(), '.micro', 'runtime')
    this.#microCli = options.microCli ?? defaultMicroCli()
  }

  /** Open a runtime on `options.store`, running again every service a previous one left there. */
  static async open(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const runtime = new LocalRuntime(options)
    await runtime.#restore()
    return runtime
  }

  async create(request: CreateRequest): Promise<ServiceStatus> {
    const req = await check(createSchema, request, 'create request')
    const namespace = req.namespace ?? DEFAULT_NAMESPACE
    const source = await resolveSource(req.source)
    const name = req.name ?? source.name
    if (!new RegExp(NAME_PATTERN).test(name)) {
      throw newError(ID, `"${name}" (from ${source.file}) is not a valid service name: pass a name`, 400)
    }
    const key = stateKey(namespace, name)
    if (this.#services.has(key) || this.#reserved.has(key)) {
      throw conflict(ID, `service ${name} already exists in namespace ${namespace}: update or kill it`)
    }
    this.#reserved.add(key)
    try {
      this.#assertOpen()
      const spec: ServiceSpec = {
        name,
        source: source.path,
        instances: req.instances ?? 1,
        env: envOf(req.env),
      }
      const identity = await this.#identity(namespace, name)
      const now = new Date().toISOString()
      try {
        const managed = this.#manage({
          namespace,
          spec,
          created: now,
          updated: now,
          processes: [],
          restarts: [],
        })
        managed.supervisor = this.#supervise(
          managed,
          commandFor(source, this.#context(namespace, spec, identity)),
        )
        await this.#persist(managed)
        return serviceStatus(managed)
      } catch (error) {
        await this.#options.identities?.remove(namespace, name).catch(() => undefined)
        throw error
      }
    } finally {
      this.#reserved.delete(key)
    }
  }

  async read(request: ReadRequest = {}): Promise<ServiceStatus[]> {
    const req = await check(readSchema, request, 'read request')
    const namespace = req.namespace ?? DEFAULT_NAMESPACE
    if (req.name !== undefined) return [serviceStatus(this.#find(namespace, req.name))]
    return [...this.#services.values()]
      .filter((m) => m.namespace === namespace)
      .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
      .map(serviceStatus)
  }

  async update(request: UpdateRequest): Promise<ServiceStatus> {
    const req = await check(updateSchema, request, 'update request')
    const namespace = req.namespace ?? DEFAULT_NAMESPACE
    const managed = this.#findForUpdate(namespace, req)
    if (managed.updating) throw conflict(ID, `service ${managed.spec.name} is already being updated`)
    managed.updating = true
    try {
      const source = await resolveSource(req.source ?? managed.spec.source)
      const spec: ServiceSpec = {
        ...managed.spec,
        source: source.path,
        instances: req.instances ?? managed.spec.instances,
        env: req.env ? envOf(req.env) : managed.spec.env,
      }
      const identity = await this.#identity(namespace, spec.name)
      const command = commandFor(source, this.#context(namespace, spec, identity))
      if (managed.supervisor) {
        try {
          await managed.supervisor.update(command, spec.instances)
        } catch (error) {
          throw newError(ID, `update of ${spec.name} failed: ${(error as Error).message}`, 422)
        }
      } else {
        managed.spec = spec
        managed.supervisor = this.#supervise(managed, command)
      }
      managed.spec = spec
      managed.error = undefined
      managed.updated = new Date().toISOString()
      await this.#persist(managed)
      return serviceStatus(managed)
    } finally {
      managed.updating = false
    }
  }

  async delete(request: DeleteRequest): Promise<void> {
    const req = await check(deleteSchema, request, 'delete request')
    const namespace = req.namespace ?? DEFAULT_NAMESPACE
    const managed = this.#find(namespace, req.name)
    this.#services.delete(stateKey(namespace, req.name))
    await managed.supervisor?.stop()
    managed.log.remove()
    // A state write already under way must not land after the delete and bring it back.
    await managed.writing?.catch(() => {})
    await deleteState(this.#options.store, namespace, req.name)
    await this.#options.identities?.remove(namespace, req.name)
  }

  /** Past lines of a service (then new ones with `follow`); a 404 for an unknown service. */
  logs(service: { namespace?: string; name: string }, options: LogsOptions = {}): AsyncIterable<LogRecord> {
    const managed = this.#find(service.namespace ?? DEFAULT_NAMESPACE, service.name)
    return managed.log.read(options)
  }

  /**
   * Stop every process (gracefully) and the log files. The services stay in the store, so
   * the next runtime opened on it starts them again.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const all = [...this.#services.values()]
    await Promise.all(all.map((m) => m.supervisor?.stop()))
    await Promise.all(all.map((m) => this.#persist(m).catch(() => {})))
    for (const m of all) m.log.close()
  }

  async #restore(): Promise<void> {
    const states = await loadStates(this.#options.store)
    await Promise.all(states.map((state) => this.#restoreOne(state)))
  }

  async #restoreOne(state: ServiceState): Promise<void> {
    const managed = this.#manage(state)
    const stopTimeout = this.#options.stopTimeout ?? 10_000
    const orphans = await Promise.all(state.processes.map((p) => stopOrphan(p, stopTimeout)))
    orphans.forEach((found, i) => {
      const pid = state.processes[i]?.pid
      if (found) managed.note(`stopped pid ${pid}, left running by the previous runtime`)
    })
    try {
      const source = await resolveSource(state.spec.source)
      const identity = await this.#identity(state.namespace, state.spec.name)
      managed.supervisor = this.#supervise(
        managed,
        commandFor(source, this.#context(state.namespace, state.spec, identity)),
      )
    } catch (error) {
      managed.error = `cannot start again: ${MicroError.from(error).detail}`
      managed.note(managed.error)
    }
    await this.#persist(managed)
  }

  #manage(state: ServiceState): ManagedService {
    const { namespace, spec } = state
    const log = new ServiceLog(join(this.#dir, 'logs', namespace, spec.name), this.#options.logs)
    const managed: ManagedService = {
      namespace,
      spec,
      created: state.created,
      updated: state.updated,
      restarts: state.restarts,
      log,
      updating: false,
      note: (line) =>
        log.append({ time: new Date().toISOString(), instance: 0, pid: 0, stream: 'runtime', line }),
    }
    this.#services.set(stateKey(namespace, spec.name), managed)
    return managed
  }

  #supervise(managed: ManagedService, command: ReturnType<typeof commandFor>): Supervisor {
    const o = this.#options
    const supervisor = new Supervisor({
      command,
      instances: managed.spec.instances,
      restart: o.restart,
      backoff: o.backoff,
      stopTimeout: o.stopTimeout,
      readyTimeout: o.readyTimeout,
      readyAfter: o.readyAfter,
      restarts: managed.restarts,
      onLog: (record) => managed.log.append(record),
      onChange: () => {
        if (this.#services.get(stateKey(managed.namespace, managed.spec.name)) === managed) {
          this.#persist(managed).catch(() => {})
        }
      },
    })
    supervisor.start()
    return supervisor
  }

  /** Write the service's spec and live processes; writes are coalesced, the last one wins. */
  #persist(managed: ManagedService): Promise<void> {
    managed.dirty = true
    managed.writing ??= (async () => {
      try {
        while (managed.dirty) {
          managed.dirty = false
          const processes = await Promise.all(
            (managed.supervisor?.processes() ?? []).map(async (p) => ({
              pid: p.pid,
              startTime: await p.startTime,
            })),
          )
          const status = managed.supervisor?.status()
          managed.restarts = status ? status.instances.map((i) => i.restarts) : managed.restarts
          await saveState(this.#options.store, {
            namespace: managed.namespace,
            spec: managed.spec,
            created: managed.created,
            updated: managed.updated,
            processes: processes.filter(
              (p): p is { pid: number; startTime: string } => p.startTime !== undefined,
            ),
            restarts: managed.restarts,
          })
        }
      } finally {
        managed.writing = undefined
      }
    })()
    return managed.writing
  }

  #context(namespace: string, spec: ServiceSpec, identity: Record<string, string>): CommandContext {
    return {
      namespace,
      baseEnv: this.#options.env ?? process.env,
      env: spec.env,
      identity,
      microCli: this.#microCli,
    }
  }

  async #identity(namespace: string, name: string): Promise<Record<string, string>> {
    return (await this.#options.identities?.envFor(namespace, name)) ?? {}
  }

  #find(namespace: string, name: string): ManagedService {
    const managed = this.#services.get(stateKey(namespace, name))
    if (!managed) throw notFound(ID, `no service ${name} in namespace ${namespace}`)
    return managed
  }

  #findForUpdate(namespace: string, req: UpdateRequest): ManagedService {
    if (req.name !== undefined) return this.#find(namespace, req.name)
    if (req.source === undefined) throw newError(ID, 'update needs a name or a source', 400)
    const found = [...this.#services.values()].find(
      (m) => m.namespace === namespace && m.spec.source === req.source,
    )
    if (!found) throw notFound(ID, `no service in namespace ${namespace} runs ${req.source}`)
    return found
  }

  #assertOpen(): void {
    if (this.#closed) throw newError(ID, 'the runtime is closed', 503)
  }
}

async function check<T>(schema: StandardSchema<T>, value: unknown, what: string): Promise<T> {
  return (await validate(schema, value ?? {}, ID, what)) as T
}

function envOf(env: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env ?? {})) {
    if (RESERVED_ENV.has(key)) throw newError(ID, `env ${key} is set by the runtime and cannot be given`, 400)
    out[key] = value
  }
  return out
}
