import type { LogLine, RuntimeService } from '../../dashboard/api/types.js'
import type { RuntimeSource } from '../../dashboard/sources.js'
import type { LogRecord, ProcessRuntime, ServiceState, ServiceStatus } from '../runtime/types.js'

const STATUS: Record<ServiceState, RuntimeService['status']> = {
  'crash-loop': 'crashed',
  updating: 'restarting',
  restarting: 'restarting',
  starting: 'starting',
  running: 'running',
  stopping: 'stopped',
  stopped: 'stopped',
  exited: 'crashed',
  error: 'crashed',
}

/**
 * The platform's runtime as the dashboard's {@link RuntimeSource}. Restart is a rolling
 * update onto the service's source as it is now; stop is `micro kill` (the runtime has no
 * stopped-but-kept state: a kept service is one it keeps running).
 */
export function runtimeSource(runtime: ProcessRuntime): RuntimeSource {
  return {
    async list(namespace) {
      return (await runtime.read({ namespace })).map(serviceOf)
    },
    logs({ service, namespace, lines, follow, signal }) {
      if (service !== undefined)
        return linesOf(service, runtime.logs({ namespace, name: service }, { lines, follow, signal }))
      return allLogs(runtime, namespace, lines, follow, signal)
    },
    async restart(name, namespace) {
      await runtime.update({ namespace, name })
    },
    async stop(name, namespace) {
      await runtime.delete({ namespace, name })
    },
  }
}

function serviceOf(status: ServiceStatus): RuntimeService {
  const running = status.processes.find((p) => p.pid !== undefined) ?? status.processes[0]
  const service: RuntimeService = {
    name: status.name,
    namespace: status.namespace,
    version: status.version,
    status: STATUS[status.status] ?? 'crashed',
    restarts: status.restarts,
    crashLoop: status.status === 'crash-loop',
    source: status.source,
  }
  if (running?.pid !== undefined) service.pid = running.pid
  if (running?.startedAt) service.startedAt = Date.parse(running.startedAt)
  const exit = status.processes.find((p) => p.lastExit !== undefined)?.lastExit
  if (exit) service.lastExitCode = exit.code
  return service
}

function lineOf(service: string, record: LogRecord): LogLine {
  const line: LogLine = { service, time: Date.parse(record.time), text: record.line }
  if (record.stream !== 'runtime') line.stream = record.stream
  return line
}

async function* linesOf(service: string, records: AsyncIterable<LogRecord>): AsyncGenerator<LogLine> {
  for await (const record of records) yield lineOf(service, record)
}

/**
 * Every service's lines: the last `lines` of them all in time order, then (with `follow`)
 * new lines of any service as they come.
 */
async function* allLogs(
  runtime: ProcessRuntime,
  namespace: string,
  lines: number,
  follow: boolean,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const names = (await runtime.read({ namespace })).map((s) => s.name)
  const past: LogLine[] = []
  for (const name of names) {
    for await (const record of runtime.logs({ namespace, name }, { lines, signal }))
      past.push(lineOf(name, record))
  }
  past.sort((a, b) => a.time - b.time)
  yield* past.slice(-lines)
  if (!follow || signal.aborted) return
  const queue: LogLine[] = []
  let wake: (() => void) | undefined
  const tails = names.map((name) =>
    (async () => {
      for await (const record of runtime.logs({ namespace, name }, { lines: 0, follow: true, signal })) {
        queue.push(lineOf(name, record))
        wake?.()
      }
    })().catch(() => undefined),
  )
  const stop = () => wake?.()
  signal.addEventListener('abort', stop, { once: true })
  try {
    while (!signal.aborted) {
      while (queue.length > 0) yield queue.shift() as LogLine
      await new Promise<void>((resolve) => {
        wake = resolve
      })
    }
  } finally {
    signal.removeEventListener('abort', stop)
    await Promise.all(tails)
  }
}
