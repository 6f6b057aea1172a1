import { enrich } from '../../dashboard/api/log-lines.js'
import type { LogLine, RuntimeService } from '../../dashboard/api/types.js'
import type { RuntimeSource } from '../../dashboard/sources.js'
import { notFound } from '../../errors/errors.js'
import type { DevHttpContext } from './http.js'
import { DEFAULT_RING_LINES, LogRing } from './log-ring.js'
import type { DevEvent, DevServiceState, DevServiceStatus } from './types.js'

/** Lines a follower that does not keep up may fall behind by; older ones are dropped. */
const MAX_QUEUED = 10_000

const STATUS: Record<DevServiceState, RuntimeService['status']> = {
  waiting: 'starting',
  starting: 'starting',
  ready: 'running',
  reloading: 'restarting',
  failed: 'crashed',
  stopping: 'stopped',
  stopped: 'stopped',
}

/** The dashboard's runtime over a dev loop, and the end of its capture. */
export interface DevRuntimeSource extends RuntimeSource {
  /** Stop capturing output (the lines kept stay readable). */
  close(): void
}

/**
 * `micro run`'s processes as the dashboard's {@link RuntimeSource}: the list is the dev
 * loop's status; logs come from a bounded ring of each service's recent output (captured
 * from now on, JSON lines read for level and trace id) plus the dev loop's own notes
 * (ready, reloaded, exited); restart is the dev loop's safe swap (a stopped service
 * starts again), stop stops the process and leaves the service listed as `stopped`,
 * without a pid, until it is restarted. The dev loop runs one namespace: others are empty.
 */
export function devRuntimeSource(
  context: Pick<DevHttpContext, 'namespace' | 'services' | 'subscribe' | 'restart' | 'stop'>,
  options: { lines?: number } = {},
): DevRuntimeSource {
  const ring = new LogRing(options.lines ?? DEFAULT_RING_LINES)
  const unsubscribe = context.subscribe((event) => {
    const line = lineOf(event)
    if (line) ring.add(enrich(line))
  })
  const known = (name: string, namespace: string): void => {
    if (namespace !== context.namespace || !context.services().some((s) => s.name === name))
      throw notFound('micro.run', `micro run runs no service ${name} in namespace ${namespace}`)
  }
  return {
    async list(namespace) {
      if (namespace !== context.namespace) return []
      return context.services().map((status) => serviceOf(status, namespace))
    },
    logs({ service, namespace, lines, follow, signal }) {
      if (namespace !== context.namespace) return (async function* () {})()
      return tail(ring, service, lines, follow, signal)
    },
    async restart(name, namespace) {
      known(name, namespace)
      await context.restart(name)
    },
    async stop(name, namespace) {
      known(name, namespace)
      await context.stop(name)
    },
    close: unsubscribe,
  }
}

function serviceOf(status: DevServiceStatus, namespace: string): RuntimeService {
  const stopped = status.state === 'stopped' || status.state === 'stopping'
  const service: RuntimeService = {
    name: status.name,
    namespace,
    version: status.version,
    status: STATUS[status.state],
    restarts: status.restarts,
    crashLoop: status.crashLoop === true,
    source: status.source,
  }
  if (status.pid !== undefined && !stopped) service.pid = status.pid
  if (status.startedAt !== undefined && !stopped) service.startedAt = status.startedAt
  if (status.lastExitCode !== undefined) service.lastExitCode = status.lastExitCode
  return service
}

/** A dev loop event as a log line: a service's output, or the dev loop's note about it. */
function lineOf(event: DevEvent): LogLine | undefined {
  const base = { service: event.service, time: Date.now() }
  switch (event.type) {
    case 'output':
      return { ...base, stream: event.stream, text: event.line }
    case 'ready':
      return { ...base, text: `ready${event.serving ? `: ${event.serving}` : ''}${pidOf(event.pid)}` }
    case 'reloaded':
      return { ...base, text: `reloaded in ${event.ms} ms${pidOf(event.pid)}` }
    case 'reload-failed':
      return { ...base, level: 'error', text: event.error }
    case 'exited':
      return { ...base, level: 'error', text: `exited: ${event.detail}` }
  }
}

function pidOf(pid: number | undefined): string {
  return pid === undefined ? '' : ` (pid ${pid})`
}

/** The last `lines` lines, then with `follow` every new one until `signal` aborts. */
async function* tail(
  ring: LogRing,
  service: string | undefined,
  lines: number,
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const queue: LogLine[] = []
  let wake: (() => void) | undefined
  // Listening and reading the past in one step: no line falls between them, none comes twice.
  const unlisten =
    follow && !signal.aborted
      ? ring.listen((line) => {
          if (service !== undefined && line.service !== service) return
          if (queue.length >= MAX_QUEUED) queue.shift()
          queue.push(line)
          wake?.()
        })
      : undefined
  const past = ring.last(service, lines)
  if (!unlisten) {
    yield* past
    return
  }
  const stop = () => wake?.()
  signal.addEventListener('abort', stop, { once: true })
  try {
    yield* past
    while (!signal.aborted) {
      while (queue.length > 0 && !signal.aborted) yield queue.shift() as LogLine
      if (signal.aborted) break
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = undefined
    }
  } finally {
    unlisten()
    signal.removeEventListener('abort', stop)
  }
}
