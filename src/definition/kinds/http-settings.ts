import type { TableReader } from '../table.js'

/** `[runtime.http.cors]`: which browser origins may call the service. */
export interface CorsSettings {
  /** Allowed origins, or `["*"]` for any (not with credentials). */
  origins: string[]
  methods: string[]
  /** Allowed request headers; default: whatever the preflight asks for. */
  headers: string[] | undefined
  /** Response headers scripts may read. */
  expose: string[]
  credentials: boolean
  /** How long browsers may cache a preflight, seconds. */
  maxAge: number | undefined
}

/** `[runtime.http]`; durations in ms, sizes in bytes. */
export interface HttpSettings {
  host: string
  /** Prefix of the handler's routes; stripped before the handler sees the path. */
  basePath: string
  /** Time to receive a whole request (node's requestTimeout). */
  requestTimeout: number
  /** Time the handler has to start answering before a 504. */
  handlerTimeout: number
  /** Keep-alive: how long an idle connection stays open. */
  idleTimeout: number
  /** Largest request body; bigger gets a 413. */
  bodyLimit: number
  /** How long a stop waits for requests in flight. */
  shutdownTimeout: number
  cors: CorsSettings | undefined
}

const DEFAULT_METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']

/** Read and check `[runtime.http]`. */
export function readHttpSettings(reader: TableReader): HttpSettings {
  let basePath = reader.string('base_path') ?? '/'
  if (!basePath.startsWith('/')) {
    reader.problem('base_path', `"${basePath}" must start with /`, `write base_path = "/${basePath}"`)
  }
  if (basePath.length > 1 && basePath.endsWith('/')) basePath = basePath.replace(/\/+$/, '')
  return {
    host: reader.string('host') ?? '127.0.0.1',
    basePath,
    requestTimeout: reader.duration('request_timeout') ?? 30_000,
    handlerTimeout: reader.duration('handler_timeout') ?? 30_000,
    idleTimeout: reader.duration('idle_timeout') ?? 5_000,
    bodyLimit: reader.size('body_limit') ?? 4 * 1024 * 1024,
    shutdownTimeout: reader.duration('shutdown_timeout') ?? 10_000,
    cors: readCors(reader),
  }
}

function readCors(parent: TableReader): CorsSettings | undefined {
  const table = parent.table('cors')
  if (table === undefined) return undefined
  const reader = parent.child('cors', table)
  const origins = reader.strings('origins') ?? []
  const credentials = reader.boolean('credentials') ?? false
  if (origins.length === 0) {
    reader.problem(
      'origins',
      'is missing or empty',
      'list the allowed origins, e.g. origins = ["https://app.example.com"]',
    )
  }
  if (origins.includes('*') && credentials) {
    reader.problem(
      'origins',
      '"*" cannot be used with credentials = true (browsers refuse it)',
      'list the origins explicitly, or set credentials = false',
    )
  }
  for (const [i, origin] of origins.entries()) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      reader.problem(
        `origins[${i}]`,
        `"${origin}" is not an origin`,
        'write scheme://host[:port] with no path, e.g. "https://app.example.com"',
      )
    }
  }
  const methods = (reader.strings('methods') ?? DEFAULT_METHODS).map((m) => m.toUpperCase())
  if (methods.length === 0)
    reader.problem('methods', 'is empty', `list the allowed methods, e.g. ${JSON.stringify(DEFAULT_METHODS)}`)
  const maxAge = reader.duration('max_age')
  const cors: CorsSettings = {
    origins,
    methods,
    headers: reader.strings('headers'),
    expose: reader.strings('expose') ?? [],
    credentials,
    maxAge: maxAge === undefined ? undefined : Math.floor(maxAge / 1000),
  }
  reader.done()
  return cors
}
