import { canceled, MicroError, newError } from '../errors/errors.js'
import { GrpcStatus, microCodeOf } from '../transport/grpc/protocol.js'

/** A set of error codes as a test: `[503, "500-599"]`, plus gRPC status names or numbers. */
export function codeMatcher(
  codes: readonly (number | string)[] | undefined,
  grpcCodes: readonly (number | string)[] | undefined,
  fallback: readonly number[],
  where: string,
): (code: number) => boolean {
  if (codes === undefined && grpcCodes === undefined) {
    const set = new Set(fallback)
    return (code) => set.has(code)
  }
  const exact = new Set<number>()
  const ranges: [number, number][] = []
  for (const entry of codes ?? []) {
    if (typeof entry === 'number' && Number.isInteger(entry)) exact.add(entry)
    else if (typeof entry === 'string' && /^\d{3}$/.test(entry.trim())) exact.add(Number(entry))
    else if (typeof entry === 'string' && /^\d{3}\s*-\s*\d{3}$/.test(entry.trim())) {
      const [from, to] = entry.split('-').map((n) => Number(n.trim())) as [number, number]
      ranges.push([from, to])
    } else
      throw new TypeError(`${where}: ${JSON.stringify(entry)} is not a code or a range such as "500-599"`)
  }
  for (const entry of grpcCodes ?? []) {
    const status =
      typeof entry === 'number' ? entry : (GrpcStatus as Record<string, number>)[String(entry).toUpperCase()]
    if (status === undefined || status < 1 || status > 16) {
      throw new TypeError(`${where}: ${JSON.stringify(entry)} is not a gRPC status (e.g. UNAVAILABLE)`)
    }
    exact.add(microCodeOf(status))
  }
  return (code) => exact.has(code) || ranges.some(([from, to]) => code >= from && code <= to)
}

const shortCircuited = new WeakSet<MicroError>()

/** A call refused by a policy in this process before it was sent (breaker open, bulkhead full). */
export function refusedHere(id: string, detail: string, code = 503): MicroError {
  const error = newError(id, detail, code)
  shortCircuited.add(error)
  return error
}

/** Whether a policy refused the call here, so nothing was sent and retrying will not help now. */
export function isRefusedHere(error: unknown): boolean {
  return error instanceof MicroError && shortCircuited.has(error)
}

/** The canceled error an attempt that lost a hedge race gets. */
export function lostTheRace(endpoint: string): MicroError {
  return canceled('micro.client', `${endpoint}: another attempt answered first`)
}

/** `retry after N ms`, the hint a 429 carries in its detail (429s from these rate limits say it). */
export function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof MicroError) || error.code !== 429) return undefined
  const match = /retry after (\d+) ms/.exec(error.detail)
  return match ? Number(match[1]) : undefined
}
