import { collectDefaultMetrics, Registry } from 'prom-client'

let shared: Registry | undefined

/**
 * The process, heap, GC and event-loop metrics of prom-client (`process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds` ...), collected once per
 * process. They describe the process, not a service, and prom-client's collectors cannot
 * be stopped (an event-loop delay monitor and a GC observer each), so every service in the
 * process serves the same ones rather than starting a set each.
 */
export function processMetrics(): Registry {
  if (shared === undefined) {
    shared = new Registry()
    collectDefaultMetrics({ register: shared })
  }
  return shared
}
