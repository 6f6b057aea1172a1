/** Where a service's spans go: a URL taking an OTLP/JSON ExportTraceServiceRequest. */
export interface ExportTarget {
  url: string
  /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS): may hold a token, so never logged. */
  headers: Record<string, string>
  /**
   * The platform (`host:port`, from MICRO_PLATFORM) this target is the `Traces.Export` of:
   * the spans then go over the platform client with the service's own platform token
   * (MICRO_AUTH_ID/MICRO_AUTH_SECRET), which is never sent to any other endpoint.
   */
  platform?: string
}

/**
 * The export target the environment names, if any:
 *
 * 1. none when OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none;
 * 2. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, as it is;
 * 3. OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`;
 * 4. MICRO_PLATFORM (`host:port` of a platform): its `Traces.Export` endpoint, which takes
 *    the same body (the URL `http://host:port/Traces/Export` names it in log lines; the
 *    spans go over the platform client, TLS and the service's token included).
 *
 * Headers come from OTEL_EXPORTER_OTLP_TRACES_HEADERS or OTEL_EXPORTER_OTLP_HEADERS
 * (`key=value,key2=value2`, values URL-encoded).
 */
export function exportTargetFromEnv(env: NodeJS.ProcessEnv): ExportTarget | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined
  if (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none') return undefined
  const headers = parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS)
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces) return { url: traces, headers }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  if (base) return { url: `${base.replace(/\/+$/, '')}/v1/traces`, headers }
  const platform = env.MICRO_PLATFORM?.trim()
  if (platform) {
    const origin = /^https?:\/\//.test(platform) ? platform.replace(/\/+$/, '') : `http://${platform}`
    return { url: `${origin}/Traces/Export`, headers, platform: origin.replace(/^https?:\/\//, '') }
  }
  return undefined
}

/**
 * The features a `createService` service runs, given its environment: when a platform
 * (MICRO_PLATFORM) or an OTLP endpoint is named, tracing is on (and exports there), unless
 * the options say `tracing: false`.
 */
export function withPlatformTracing<F extends { tracing?: unknown }>(
  features: F | undefined,
  env: NodeJS.ProcessEnv,
): F | undefined {
  if (features?.tracing !== undefined || !exportTargetFromEnv(env)) return features
  return { ...features, tracing: true } as F
}

/** `k=v,k2=v2` with URL-encoded values; malformed entries are skipped. */
function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  if (!raw) return headers
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    const key = pair.slice(0, eq).trim().toLowerCase()
    let value = pair.slice(eq + 1).trim()
    try {
      value = decodeURIComponent(value)
    } catch {
      continue
    }
    if (/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) headers[key] = value
  }
  return headers
}
