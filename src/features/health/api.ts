/** `features.health`: readiness checks, reported on /health, /health/ready and Health.Ready. */
export interface HealthApi {
  /** Add a readiness check: it fails by throwing (or rejecting); bounded by the feature's timeout. */
  addCheck(name: string, check: () => unknown): void
  removeCheck(name: string): void
  /** Run the checks now. */
  report(): Promise<HealthReport>
}

/** What the health endpoints answer. */
export interface HealthReport {
  status: 'ok' | 'unavailable'
  /** Each check's outcome: `ok` or its error message. */
  checks: Record<string, string>
}
