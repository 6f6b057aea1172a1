import type { ServiceLog } from './log-file.js'
import type { Supervisor } from './supervisor.js'
import type { ServiceSpec, ServiceStatus } from './types.js'

/** One service the local runtime runs: its spec, its processes, its log. */
export interface ManagedService {
  namespace: string
  spec: ServiceSpec
  created: string
  updated: string
  /** Restart counts per slot, kept across runtime restarts. */
  restarts: number[]
  log: ServiceLog
  /** Absent when the service could not be started again (its source is gone). */
  supervisor?: Supervisor
  /** Why it is not running, when the supervisor cannot say. */
  error?: string
  updating: boolean
  /** A line of the runtime's own in the service's log. */
  note(line: string): void
  /** A state write is in flight / another is wanted after it. */
  writing?: Promise<void>
  dirty?: boolean
}

/** Names whose values `status` never shows (as the definition layer's secret rule). */
const SECRET_NAME = /SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|PRIVATE/i

/** The service as `Runtime.Read` returns it. */
export function serviceStatus(managed: ManagedService): ServiceStatus {
  const s = managed.supervisor?.status()
  const env = Object.fromEntries(
    Object.entries(managed.spec.env).map(([k, v]) => [k, SECRET_NAME.test(k) ? '[secret]' : v]),
  )
  const error = managed.error ?? s?.error
  return {
    namespace: managed.namespace,
    name: managed.spec.name,
    version: managed.supervisor?.command.version ?? 'unknown',
    source: managed.spec.source,
    status: s?.state ?? 'error',
    since: new Date(s?.since ?? Date.parse(managed.updated)).toISOString(),
    uptime: s?.uptime ?? 0,
    restarts: s?.restarts ?? managed.restarts.reduce((a, b) => a + b, 0),
    instances: { desired: managed.spec.instances, running: s?.running ?? 0 },
    processes: s?.instances ?? [],
    env,
    created: managed.created,
    updated: managed.updated,
    ...(error ? { error } : {}),
  }
}
