import { redactText } from '../auth/redact.js'
import type { Logger } from '../logger/logger.js'

/**
 * One tool call as the audit sees it: who, which tool, allowed or denied and why, how long,
 * what failed. Never the arguments, the answer or a token: arguments are the caller's data,
 * and an error's detail is redacted before it lands here.
 */
export interface AuditRecord {
  /** ISO time the call arrived. */
  time: string
  tool: string
  /** The endpoint the tool called (built-ins: the block and operation they act on). */
  service?: string
  endpoint?: string
  /** `namespace/id` of the verified account; undefined for an anonymous caller. */
  account?: string
  /** False when the account comes from a token the MCP server did not verify itself (stdio: the platform does). */
  verified?: boolean
  /** `http` or `stdio`. */
  transport: string
  /** The MCP client's name and version, as it said. */
  client?: string
  /** The HTTP peer's address. */
  address?: string
  /** Scopes the tool needs (one of). */
  scopes: readonly string[]
  allowed: boolean
  /** Why it was denied: an unknown tool, a rate limit, an auth refusal (401/403). */
  reason?: string
  durationMs: number
  /** The failure of an allowed call: the error's id, code and redacted detail. */
  error?: { id: string; code: number; detail: string }
  /** The W3C trace id of the call's span. */
  traceId?: string
}

/** Where audit records go. `record` must not throw or block: it runs on every call. */
export interface AuditSink {
  /** Keep one record (must not throw or block). */
  record(record: AuditRecord): void
}

/** Audit records as one structured log line each (`msg: "mcp tool call"`, the record under `audit`). */
export function logAudit(logger: Logger): AuditSink {
  return {
    record(record) {
      const line = { audit: record }
      if (record.allowed) logger.info('mcp tool call', line)
      else logger.warn('mcp tool call denied', line)
    },
  }
}

/** The last `capacity` audit records in memory, newest last, with listeners (the dashboard reads it). */
export class AuditRing implements AuditSink {
  readonly #records: AuditRecord[] = []
  readonly #capacity: number
  readonly #listeners = new Set<(record: AuditRecord) => void>()

  constructor(capacity = 1000) {
    if (!(capacity >= 1)) throw new TypeError(`an audit ring needs a capacity of at least 1, not ${capacity}`)
    this.#capacity = capacity
  }

  record(record: AuditRecord): void {
    this.#records.push(record)
    if (this.#records.length > this.#capacity) this.#records.shift()
    for (const listener of this.#listeners) {
      try {
        listener(record)
      } catch {}
    }
  }

  /** The last `limit` records (all by default), oldest first. */
  recent(limit = this.#capacity): AuditRecord[] {
    return this.#records.slice(-Math.max(0, limit))
  }

  /** Hear every new record; returns the unsubscribe. */
  subscribe(listener: (record: AuditRecord) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** Records to every sink; a sink that throws does not stop the others. */
export function auditTo(...sinks: AuditSink[]): AuditSink {
  return {
    record(record) {
      for (const sink of sinks) {
        try {
          sink.record(record)
        } catch {}
      }
    },
  }
}

/** An error's detail fit for the audit: tokens and secrets redacted, at most 500 characters. */
export function auditDetail(detail: string): string {
  const text = redactText(detail)
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}
