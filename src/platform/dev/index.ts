export { type CheckOutcome, SourceChecker } from './check.js'
export { type ChildEnvContext, childEnv } from './env.js'
export {
  DEFAULT_DEV_ADDRESS,
  type DevHttp,
  type DevHttpContext,
  type DevHttpServer,
  listenDevHttp,
  type MountHttp,
} from './http.js'
export { DevLoop, type DevLoopOptions } from './loop.js'
export { statusMount } from './mount.js'
export { startOrder, stopLevels } from './order.js'
export { type Plan, type PlanInput, type PlannedService, planServices } from './plan.js'
export { DEFAULT_ENVIRONMENT, findProjectFile, loadProject, PROJECT_FILES, type Project } from './project.js'
export type * from './types.js'
export { SourceWatcher } from './watch.js'
