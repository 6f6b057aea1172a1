import { parseCommand, UsageError } from '../args.js'

/** `micro server --help` */
export const SERVER_HELP = `Usage: micro server [options]

Run the platform in one process, until SIGINT/SIGTERM (a second signal exits at once):

  HTTP (127.0.0.1:8080)        the dashboard at /, the gateway under /api/ and /rpc,
                               /openapi.json, /v1/traces (OTLP), /health/*, /metrics,
                               /.well-known/jwks.json, WebSocket and SSE for streams
  platform port (127.0.0.1:8081)
                               Registry, Broker, Events, Store, Config, Runtime, Auth,
                               Traces and Proxy as the service "platform" (the micro
                               protocol, and HTTP: POST /Store/Read)

  micro server
  curl -XPOST 127.0.0.1:8080/api/greeter/hello -d '{"name":"Alice"}'
  micro run -d ./orders; micro status; micro logs orders -f

State is kept by the engines the MICRO_* variables name (the file-backed defaults under
~/.micro otherwise), so a restarted server has its store, config, events and runtime
services back. Auth follows the bind addresses: open on loopback, enforced anywhere else
or with --auth; a first start that enforces prints a one-time "micro login --token" line.

Options:
  --address <host:port>            HTTP (MICRO_SERVER_HTTP_ADDRESS, default 127.0.0.1:8080)
  --platform-address <host:port>   platform port (MICRO_SERVER_PLATFORM_ADDRESS, default 127.0.0.1:8081)
  --auth, --no-auth                enforce auth, or leave it open (MICRO_AUTH=on|off)
  --read-only                      the dashboard refuses every change
  --namespace <ns>                 what the gateway and dashboard serve (MICRO_NAMESPACE, default micro)
  -h, --help                       show help`

/**
 * `micro server`: start the platform, print its URLs (and the one-time login line of a
 * first start that enforces auth), and drain everything on SIGINT/SIGTERM; a second
 * signal exits at once. Resolves with the exit code.
 */
export async function serverCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
  err: (text: string) => void = (t) => console.error(t),
  stop?: AbortSignal,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    address: { type: 'string' },
    'platform-address': { type: 'string' },
    auth: { type: 'boolean' },
    'no-auth': { type: 'boolean' },
    'read-only': { type: 'boolean' },
  })
  if (global.help) {
    out(SERVER_HELP)
    return 0
  }
  if (positionals.length > 0) throw new UsageError(`server takes no arguments (got ${positionals.join(' ')})`)
  if (values.auth && values['no-auth']) throw new UsageError('--auth and --no-auth contradict each other')
  const auth = values.auth ? true : values['no-auth'] ? false : undefined
  // The server (node:http, the gateway, the runtime, auth) loads only when this command runs.
  const { startServer } = await import('../../platform/server/server.js')
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer({
      address: values.address as string | undefined,
      platformAddress: values['platform-address'] as string | undefined,
      auth,
      readOnly: values['read-only'] === true,
      namespace: argv.some((a) => a === '--namespace' || a.startsWith('--namespace='))
        ? global.namespace
        : undefined,
    })
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message)
    err((error as Error).message)
    return 1
  }
  const http = `http://${server.address}`
  const lines = [
    `micro server is running (auth ${server.mode === 'enforce' ? 'enforced' : 'open to local callers'})`,
    `  dashboard       ${http}/`,
    `  gateway         ${http}/api/  (curl -XPOST ${http}/api/greeter/hello -d '{"name":"Alice"}')`,
    `  platform port   ${server.platformAddress}  (MICRO_PLATFORM=${server.platformAddress})`,
  ]
  // On stdout, in the same write as the URLs, never through the logger: the token is a secret shown once.
  if (server.bootstrap) lines.push('Log in as the first admin (once, within 24 h):', `  ${server.bootstrap}`)
  out(lines.join('\n'))
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      // A second signal exits at once.
      process.once('SIGINT', () => process.exit(130))
      process.once('SIGTERM', () => process.exit(143))
      resolve()
    }
    process.once('SIGINT', done)
    process.once('SIGTERM', done)
    stop?.addEventListener('abort', done, { once: true })
  })
  out('micro server: draining')
  await server.close()
  return 0
}
