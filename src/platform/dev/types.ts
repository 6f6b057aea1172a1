/**
 * The dev loop's shapes: what it runs (one {@link DevServiceSpec} per service), what it
 * reports ({@link DevServiceStatus}, {@link DevEvent}), and how it is configured.
 */

/** One service of the dev loop: a folder (or module) to run, its dependencies and its variables. */
export interface DevServiceSpec {
  /** The name the dev loop shows, and the name `depends` lists refer to. */
  name: string
  /** Absolute path: a service.toml folder, a module, or a folder with an entry module. */
  source: string
  /** Services that must be ready before this one starts (names). */
  depends: string[]
  /** Variables of this service in the chosen environment (the project's shared ones, then its own). */
  env: Record<string, string>
  /** A fixed port for its rpc server (`MICRO_SERVER_ADDRESS=127.0.0.1:<port>`). */
  port?: number
  /** The service.toml to use instead of the folder's (`micro run --config`). */
  config?: string
}

/** Where a service is in the dev loop. */
export type DevServiceState =
  | 'waiting' // for its dependencies
  | 'starting'
  | 'ready'
  | 'reloading' // ready, with a new version starting next to it
  | 'failed' // exited or not ready; the supervisor retries with back-off, a change retries at once
  | 'stopping'
  | 'stopped'

/** What the dev loop reports about one service (the banner, the dashboard). */
export interface DevServiceStatus {
  name: string
  source: string
  state: DevServiceState
  version: string
  /** What it said when it became ready: `rpc on 127.0.0.1:41203, http on http://...`. */
  serving?: string
  pid?: number
  /** When its current process started, ms since the epoch. */
  startedAt?: number
  restarts: number
  reloads: number
  /** Its process crashes again and again soon after starting: the Supervisor backs off. */
  crashLoop?: boolean
  /** How its last process ended: the exit code, null for a signal. */
  lastExitCode?: number | null
  /** The last reload's or start's error, until the next success. */
  error?: string
}

/** Something the dev loop did, for listeners (a dashboard showing live process events). */
export type DevEvent =
  | { type: 'ready'; service: string; serving?: string; pid?: number }
  | { type: 'reloaded'; service: string; pid?: number; ms: number }
  | { type: 'reload-failed'; service: string; error: string }
  | { type: 'exited'; service: string; detail: string }
  | { type: 'output'; service: string; stream: 'stdout' | 'stderr'; line: string; pid: number }
