import type { Store } from '../../store/store.js'
import { processStartTime, signalGroup } from './proc.js'
import type { ServiceSpec } from './types.js'

/** Where the runtime keeps its services: namespace `micro`, database `runtime`, table `services`. */
const SCOPE = { namespace: 'micro', database: 'runtime', table: 'services' } as const

/** A process as recorded: the pid and the kernel's start time, which together name it. */
export interface RecordedProcess {
  pid: number
  startTime: string
}

/** What the store holds for one service (key `<namespace>/<name>`). */
export interface ServiceState {
  namespace: string
  spec: ServiceSpec
  created: string
  updated: string
  /** Its live processes when last written. */
  processes: RecordedProcess[]
  /** Restart count per slot. */
  restarts: number[]
}

/** The store key of a service. */
export function stateKey(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

/** Every service the runtime ran, as last written. Records that do not parse are skipped. */
export async function loadStates(store: Store): Promise<ServiceState[]> {
  const records = await store.read<ServiceState>({ ...SCOPE, prefix: '' })
  return records.map((r) => r.value).filter(isState)
}

export function saveState(store: Store, state: ServiceState): Promise<void> {
  return store.write(stateKey(state.namespace, state.spec.name), state, SCOPE)
}

export function deleteState(store: Store, namespace: string, name: string): Promise<void> {
  return store.delete(stateKey(namespace, name), SCOPE)
}

/**
 * Stop a process a previous runtime left running, if it is still that process (same pid
 * and start time, so a pid the kernel has since given to another program is never
 * signalled): SIGTERM to its group, SIGKILL after `timeout` ms. Resolves whether it was
 * found.
 */
export async function stopOrphan(process: RecordedProcess, timeout: number): Promise<boolean> {
  if ((await processStartTime(process.pid)) !== process.startTime) return false
  const running = async () => (await processStartTime(process.pid)) === process.startTime
  signalGroup(process.pid, 'SIGTERM')
  const deadline = Date.now() + timeout
  // It is not our child any more, so there is no exit event: watch for it to go.
  while ((await running()) && Date.now() < deadline) await pause(25)
  if (await running()) {
    signalGroup(process.pid, 'SIGKILL')
    const killed = Date.now() + 5000
    while ((await running()) && Date.now() < killed) await pause(25)
  }
  return true
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function isState(value: unknown): value is ServiceState {
  const state = value as ServiceState | null
  return (
    typeof state?.namespace === 'string' &&
    typeof state.spec?.name === 'string' &&
    typeof state.spec.source === 'string' &&
    Number.isInteger(state.spec.instances) &&
    Array.isArray(state.processes)
  )
}
