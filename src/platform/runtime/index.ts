export type { BackoffOptions } from './backoff.js'
export type { Command, OutputLine } from './instance.js'
export { InstanceProcess, READY_FD, READY_FD_VARIABLE, START_GATE_VARIABLE } from './instance.js'
export { LocalRuntime, type LocalRuntimeOptions, type ServiceIdentities } from './local.js'
export { type LogLimits, ServiceLog } from './log-file.js'
export { Runtime, sinceTime } from './service.js'
export { type ResolvedSource, resolveSource } from './source.js'
export {
  type RestartPolicy,
  Supervisor,
  type SupervisorOptions,
  type SupervisorStatus,
} from './supervisor.js'
export type * from './types.js'
