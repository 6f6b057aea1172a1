import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'

/** `micro sidecar --help` */
export const SIDECAR_HELP = `Usage: micro sidecar --name <service> --app-port <port> [options]

Register an app written in any language as a micro service and give it the building
blocks over local HTTP (Dapr's shapes), until SIGINT/SIGTERM. Start order: the sidecar
opens its API at once; it registers the service only once the app answers its health
path; the app can wait for GET /v1/healthz/outbound (outbound calls work) and
GET /v1/healthz (registered, serving). See src/sidecar/README.md.

  POST /v1/invoke/<service>/<Handler.Method>   call a service
  POST /v1/publish/<topic>                     publish a message
  GET|POST|DELETE /v1/state/<key>              state, with ETags (If-Match)
  GET /v1/config/<path>                        the service's config
  POST|GET /v1/events/<topic>                  durable event streams
  The app declares GET /micro/endpoints and GET /micro/subscribe; calls to the service
  arrive as POST /<Handler.Method>, messages as POST <route>.

  micro sidecar --name py-orders --app-port 5000
  python3 app.py   # serves :5000, calls http://127.0.0.1:3500/v1/...

Options:
  --name <service>            the service name (required)
  --app-port <port>           the app's HTTP port (required)
  --app-host <host>           the app's host (default 127.0.0.1)
  --app-health-path <path>    polled until it answers 2xx (default /health)
  --port <port>               the sidecar's API port on 127.0.0.1 (default 3500; 0 picks one)
  --address <host:port>       the API's address instead (MICRO_SIDECAR_ADDRESS)
  --endpoints <list>          the app's endpoints, Handler.Method[=/path], comma-separated
                              (default: what the app answers on GET /micro/endpoints)
  --version <version>         the service version (default latest)
  --metadata <list>           headers that cross as metadata (names or x-* prefixes)
  --max-body <bytes>          largest body through the sidecar (default 4194304)
  --app-timeout <duration>    deadline of calls to the app when the caller gave none (default 30s)
  MICRO_SIDECAR_API_TOKEN     the app must send it as Micro-Api-Token on /v1/* (health aside)
  MICRO_APP_API_TOKEN         sent to the app as Micro-Api-Token on every call
  The service's blocks follow the MICRO_* variables (registry, broker, store, events ...).
${GLOBAL_HELP}`

/**
 * `micro sidecar`: run a sidecar until a signal (or `stop` aborts); resolves with the exit
 * code: 0 after a signal, 1 when the service could not be registered.
 */
export async function sidecarCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
  err: (text: string) => void = (t) => console.error(t),
  stop?: AbortSignal,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    name: { type: 'string' },
    'app-port': { type: 'string' },
    'app-host': { type: 'string' },
    'app-health-path': { type: 'string' },
    port: { type: 'string' },
    address: { type: 'string' },
    endpoints: { type: 'string' },
    version: { type: 'string' },
    metadata: { type: 'string' },
    'max-body': { type: 'string' },
    'app-timeout': { type: 'string' },
  })
  if (global.help) {
    out(SIDECAR_HELP)
    return 0
  }
  if (positionals.length > 0)
    throw new UsageError(`sidecar takes no arguments (got ${positionals.join(' ')})`)
  const v = values as Record<string, string | undefined>
  if (!v.name) throw new UsageError('--name is required: the service name the app is registered as')
  if (v['app-port'] === undefined)
    throw new UsageError('--app-port is required: the port the app serves HTTP on')
  const options = await sidecarOptions(v)
  // The service stack loads only when this command runs.
  const [{ createSidecar }, { createRegistry }, { isLoopback }] = await Promise.all([
    import('../../sidecar/sidecar.js'),
    import('../../registry/from-env.js'),
    import('../../platform/gateway/exposure.js'),
  ])
  const registry =
    global.registry === undefined ? undefined : createRegistry(global.registry, global.registryAddress)
  let sidecar: ReturnType<typeof createSidecar>
  try {
    sidecar = createSidecar({
      ...options,
      service: { namespace: global.namespace, ...(registry ? { registry } : {}) },
    })
  } catch (error) {
    await registry?.close()
    if (error instanceof TypeError) throw new UsageError(error.message)
    throw error
  }
  const address = await sidecar.start().catch(async (error: unknown) => {
    await sidecar.stop()
    throw error
  })
  out(
    `micro sidecar ${options.name} serving its API on http://${address} (namespace ${global.namespace}); ` +
      `waiting for the app at http://${sidecar.app.address}${sidecar.settings.appHealthPath}`,
  )
  if (!isLoopback(address)) {
    err(`micro sidecar: WARNING: ${address} is reachable from other machines; set MICRO_SIDECAR_API_TOKEN`)
  }
  sidecar.ready.then(
    () => out(`${options.name} is registered (service address ${sidecar.service.address})`),
    () => {},
  )
  const failed = await new Promise<boolean>((resolve) => {
    const done = (failure: boolean) => () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      // A second signal exits at once.
      process.once('SIGINT', () => process.exit(130))
      process.once('SIGTERM', () => process.exit(143))
      resolve(failure)
    }
    const onSignal = done(false)
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    stop?.addEventListener('abort', onSignal, { once: true })
    sidecar.ready.catch(done(true))
  })
  await sidecar.stop()
  await registry?.close()
  if (failed) err(`micro sidecar: ${sidecar.health().problem ?? 'the service could not be registered'}`)
  return failed ? 1 : 0
}

async function sidecarOptions(v: Record<string, string | undefined>) {
  const { parseDuration } = await import('../../util/duration.js')
  const appPort = Number(v['app-port'])
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) {
    throw new UsageError(`--app-port must be a port number 1-65535, not ${v['app-port']}`)
  }
  let address = v.address ?? process.env.MICRO_SIDECAR_ADDRESS
  if (v.port !== undefined) {
    const port = Number(v.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be a port number 0-65535, not ${v.port}`)
    }
    if (v.address !== undefined) throw new UsageError('give --port or --address, not both')
    address = `127.0.0.1:${port}`
  }
  const maxBody = v['max-body'] === undefined ? undefined : Number(v['max-body'])
  if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody < 1)) {
    throw new UsageError(`--max-body must be a number of bytes, not ${v['max-body']}`)
  }
  let appTimeout: number | undefined
  try {
    appTimeout = v['app-timeout'] === undefined ? undefined : parseDuration(v['app-timeout'], '--app-timeout')
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  return {
    name: v.name as string,
    appPort,
    ...(v['app-host'] ? { appHost: v['app-host'] } : {}),
    ...(v['app-health-path'] ? { appHealthPath: v['app-health-path'] } : {}),
    ...(address ? { address } : {}),
    ...(v.endpoints !== undefined ? { endpoints: list(v.endpoints) } : {}),
    ...(v.version ? { version: v.version } : {}),
    ...(v.metadata !== undefined ? { metadata: list(v.metadata) } : {}),
    ...(maxBody !== undefined ? { maxBody } : {}),
    ...(appTimeout !== undefined ? { appTimeout } : {}),
    apiToken: process.env.MICRO_SIDECAR_API_TOKEN,
    appToken: process.env.MICRO_APP_API_TOKEN,
  }
}
