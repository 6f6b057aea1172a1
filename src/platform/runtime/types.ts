/**
 * The runtime's public shapes: what `Runtime.Create/Read/Update/Delete/Logs` take and
 * return, and the {@link Runtime} interface the local runtime implements.
 */

/** What to run: the part of a service the user chooses (`micro run -d`). */
export interface ServiceSpec {
  /** Registry-style name, unique in its namespace. */
  name: string
  /** Absolute path on the runtime's machine: a service.toml folder, a module, or a folder with an entry. */
  source: string
  /** How many processes to keep running (1..64). */
  instances: number
  /** Extra environment variables for every instance (over the runtime's own environment). */
  env: Record<string, string>
}

/** `Runtime.Create`: the spec, where the name defaults to the service.toml's or the folder's. */
export interface CreateRequest {
  namespace?: string
  name?: string
  source: string
  instances?: number
  env?: Record<string, string>
}

/** `Runtime.Update`: roll a service onto its source as it is now (and new instances/env if given). */
export interface UpdateRequest {
  namespace?: string
  /** The service; when absent, the service created from `source`. */
  name?: string
  source?: string
  instances?: number
  env?: Record<string, string>
}

/** `Runtime.Read`: every service of the namespace, or one by name (404 when unknown). */
export interface ReadRequest {
  namespace?: string
  name?: string
}

/** `Runtime.Delete`: stop every instance and forget the service. */
export interface DeleteRequest {
  namespace?: string
  name: string
}

/** `Runtime.Logs`: past lines, then (with `follow`) new ones as they are written. */
export interface LogsRequest {
  namespace?: string
  name: string
  follow?: boolean
  /** Only lines written at or after this: ms since the epoch, an ISO time, or a duration back from now (`10m`). */
  since?: number | string
  /** At most this many past lines (the last ones). */
  lines?: number
}

/** One state of an instance (a process slot). */
export type InstanceState =
  /** Spawned, not ready yet. */
  | 'starting'
  /** Ready and serving. */
  | 'running'
  /** Exited on its own; restarting after a back-off delay. */
  | 'backoff'
  /** Crashed again and again soon after starting; still restarted, at the longest delay. */
  | 'crash-loop'
  /** Asked to stop; waiting for it to exit. */
  | 'stopping'
  /** Stopped by the runtime. */
  | 'stopped'
  /** Exited and will not be restarted (its restart policy says so). */
  | 'exited'

/** How a process ended. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  code: number | null
  signal: string | null
  /** ISO time. */
  at: string
  /** Why, when the runtime knows more than the code (not ready in time, could not spawn). */
  reason?: string
}

/** One instance as `micro status --json` shows it. */
export interface InstanceStatus {
  /** 1-based slot number; a restarted process keeps its slot. */
  instance: number
  state: InstanceState
  pid?: number
  /** ISO time the current process started. */
  startedAt?: string
  /** Milliseconds since the current process started (while it runs). */
  uptime?: number
  /** Times this slot's process was restarted after exiting on its own. */
  restarts: number
  lastExit?: ExitInfo
  /** Version of the source this process runs. */
  version: string
}

/** A service's state, summed up from its instances (worst first). */
export type ServiceState =
  | 'crash-loop'
  | 'updating'
  | 'restarting'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'exited'
  | 'error'

/** One service as `Runtime.Read` returns it. */
export interface ServiceStatus {
  namespace: string
  name: string
  version: string
  source: string
  status: ServiceState
  /** ISO time the service entered `status`. */
  since: string
  /** Milliseconds the longest-running current process has been up (0 when none runs). */
  uptime: number
  /** Restarts of all instances together. */
  restarts: number
  instances: { desired: number; running: number }
  processes: InstanceStatus[]
  /** Environment given at create/update; values of secret-looking names are shown as `[secret]`. */
  env: Record<string, string>
  created: string
  updated: string
  /** The last failure the runtime could not hide: a failed update, a source that vanished. */
  error?: string
}

/** One line a process wrote. */
export interface LogRecord {
  /** ISO time the runtime read the line. */
  time: string
  instance: number
  pid: number
  /** `runtime` lines are the runtime's own notes: started, exited, restarting, replaced. */
  stream: 'stdout' | 'stderr' | 'runtime'
  line: string
}

/** Options of {@link Runtime.logs}. */
export interface LogsOptions {
  follow?: boolean
  /** ms since the epoch. */
  since?: number
  lines?: number
  /** Ends a follow. */
  signal?: AbortSignal
}

/** A process runtime: the operations behind the `Runtime` handler (the local runtime implements it). */
export interface ProcessRuntime {
  create(request: CreateRequest): Promise<ServiceStatus>
  read(request?: ReadRequest): Promise<ServiceStatus[]>
  update(request: UpdateRequest): Promise<ServiceStatus>
  delete(request: DeleteRequest): Promise<void>
  logs(request: { namespace?: string; name: string }, options?: LogsOptions): AsyncIterable<LogRecord>
  close(): Promise<void>
}
