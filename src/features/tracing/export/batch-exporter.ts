import { MicroError } from '../../../errors/errors.js'
import type { Logger } from '../../../logger/logger.js'
import type { ExportTarget } from '../target.js'
import { exportRequest, type OtlpOrigin, type OtlpSpan } from './otlp-json.js'

/** Settings of a BatchExporter. */
export interface BatchExporterOptions {
  target: ExportTarget
  origin: OtlpOrigin
  logger: Logger
  /**
   * The bearer token each request carries (`authorization`), asked for per request so a
   * refreshed one is used; undefined (or a failure to get one): the request goes without.
   * A header the target names itself wins.
   */
  token?: () => Promise<string | undefined>
  /**
   * Deliver a request body another way than an HTTP POST to `target.url` (to a platform:
   * its `Traces.Export` over the platform's own client, TLS and token included); rejects
   * with a MicroError, whose 401 or 403 is a refusal.
   */
  deliver?: (body: unknown, timeout: number) => Promise<unknown>
  /** Spans waiting at most; past it new spans are dropped (and counted). Default 2048. */
  maxQueue?: number
  /** Spans per request at most; a full batch is sent at once. Default 512. */
  maxBatch?: number
  /** How long a span waits for its batch, ms. Default 1000. */
  delay?: number
  /** How long one request may take, ms. Default 10 s. */
  timeout?: number
}

/**
 * Sends ended spans to an OTLP/HTTP endpoint as JSON, in batches: when `maxBatch` are
 * waiting or `delay` after the first, one request at a time. The queue is bounded, so an
 * endpoint that is down costs a fixed amount of memory; failures are logged once a minute
 * at most (without the headers, which may carry a token) and the batch is dropped. A
 * refusal for want of credentials (401, 403) is logged once, saying what to set: it does
 * not heal by itself, and a warning a minute would only repeat it.
 */
export class BatchExporter {
  readonly #options: Required<
    Omit<BatchExporterOptions, 'logger' | 'target' | 'origin' | 'token' | 'deliver'>
  >
  readonly #target: ExportTarget
  readonly #origin: OtlpOrigin
  readonly #logger: Logger
  readonly #token: (() => Promise<string | undefined>) | undefined
  readonly #deliver: BatchExporterOptions['deliver']
  #queue: OtlpSpan[] = []
  #timer: NodeJS.Timeout | undefined
  #sending: Promise<void> | undefined
  #lastWarning = 0
  #refusalWarned = false
  #closed = false
  /** Spans dropped: the queue was full, or their request failed. */
  dropped = 0
  /** Spans the endpoint accepted. */
  exported = 0

  constructor(options: BatchExporterOptions) {
    this.#target = withoutCredentials(options.target)
    this.#origin = options.origin
    this.#logger = options.logger
    this.#token = options.token
    this.#deliver = options.deliver
    this.#options = {
      maxQueue: options.maxQueue ?? 2048,
      maxBatch: options.maxBatch ?? 512,
      delay: options.delay ?? 1000,
      timeout: options.timeout ?? 10_000,
    }
  }

  /** Queue an ended span. */
  add(span: OtlpSpan): void {
    if (this.#closed || this.#queue.length >= this.#options.maxQueue) {
      this.dropped++
      return
    }
    this.#queue.push(span)
    if (this.#queue.length >= this.#options.maxBatch) this.#kick()
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.#kick(), this.#options.delay)
      this.#timer.unref()
    }
  }

  /** Send everything queued now; resolves when sent (or dropped). */
  async flush(): Promise<void> {
    while (this.#queue.length > 0 || this.#sending) {
      if (this.#sending) await this.#sending
      else this.#kick()
    }
  }

  /** Flush what is queued, bounded by the request timeout, then take no more spans. */
  async shutdown(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    await this.flush()
    this.#closed = true
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#sending || this.#queue.length === 0) return
    const batch = this.#queue.splice(0, this.#options.maxBatch)
    this.#sending = this.#send(batch).finally(() => {
      this.#sending = undefined
      // More arrived while sending: a full batch goes now, a partial one after the delay.
      if (this.#queue.length >= this.#options.maxBatch) this.#kick()
      else if (this.#queue.length > 0 && !this.#timer && !this.#closed) {
        this.#timer = setTimeout(() => this.#kick(), this.#options.delay)
        this.#timer.unref()
      }
    })
  }

  async #send(batch: OtlpSpan[]): Promise<void> {
    try {
      const body = exportRequest(this.#origin, batch)
      const { status, sentToken } = this.#deliver ? await this.#delivered(body) : await this.#posted(body)
      if (status === 401 || status === 403) {
        this.dropped += batch.length
        this.#warnRefused(status, batch.length, sentToken)
        return
      }
      if (status < 200 || status >= 300) throw new Error(`HTTP ${status}`)
      this.exported += batch.length
    } catch (error) {
      this.dropped += batch.length
      const now = Date.now()
      if (now - this.#lastWarning > 60_000) {
        this.#lastWarning = now
        const url = safeUrl(this.#target.url)
        const reason = ((error as Error).message ?? String(error)).split(this.#target.url).join(url)
        this.#logger.warn(`trace export to ${url} failed: ${reason}`, { spans: batch.length })
      }
    }
  }

  /** POST the body to the target URL; its HTTP status. */
  async #posted(body: unknown): Promise<{ status: number; sentToken: boolean }> {
    const bearer = await this.#bearer()
    const response = await fetch(this.#target.url, {
      method: 'POST',
      headers: { ...bearer, ...this.#target.headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#options.timeout),
    })
    // Drain the reply so the connection can be reused.
    await response.arrayBuffer().catch(() => undefined)
    return { status: response.status, sentToken: bearer.authorization !== undefined }
  }

  /** Hand the body to `deliver`; a refusal's code as the status, other failures thrown. */
  async #delivered(body: unknown): Promise<{ status: number; sentToken: boolean }> {
    try {
      await this.#deliver?.(body, this.#options.timeout)
      return { status: 200, sentToken: true }
    } catch (error) {
      const { code } = MicroError.from(error)
      if (code !== 401 && code !== 403) throw error
      const sentToken = (await this.#token?.().catch(() => undefined)) !== undefined
      return { status: code, sentToken }
    }
  }

  /** `authorization: Bearer <token>` when there is a token to send. */
  async #bearer(): Promise<Record<string, string>> {
    // No token (no credentials, or the platform refused the login): the request goes without,
    // and its refusal is what the log says.
    const token = await this.#token?.().catch(() => undefined)
    return token === undefined ? {} : { authorization: `Bearer ${token}` }
  }

  #warnRefused(status: number, spans: number, sentToken: boolean): void {
    if (this.#refusalWarned) return
    this.#refusalWarned = true
    const how = sentToken
      ? "the service's account may not export here: it must be a service account (scope service) of the service's namespace"
      : this.#token !== undefined
        ? 'give the service credentials: MICRO_AUTH_ID and MICRO_AUTH_SECRET of a service account of its namespace'
        : 'give the endpoint a token (OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>), or export to the platform (MICRO_PLATFORM) with the service credentials MICRO_AUTH_ID and MICRO_AUTH_SECRET'
    this.#logger.warn(
      `trace export to ${safeUrl(this.#target.url)} failed: HTTP ${status}, refused; spans are dropped until ${how} (said once)`,
      { spans },
    )
  }
}

/**
 * Credentials in the URL (`http://user:pass@host`) become a Basic Authorization header:
 * fetch refuses such URLs, and the URL is then safe to name in a log line.
 */
function withoutCredentials(target: ExportTarget): ExportTarget {
  let parsed: URL
  try {
    parsed = new URL(target.url)
  } catch {
    return target
  }
  if (!parsed.username && !parsed.password) return target
  const basic = Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`)
  parsed.username = ''
  parsed.password = ''
  return {
    url: parsed.toString(),
    headers: { authorization: `Basic ${basic.toString('base64')}`, ...target.headers },
  }
}

/** The URL without credentials or query (which may carry a key). */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return '(an invalid URL)'
  }
}
