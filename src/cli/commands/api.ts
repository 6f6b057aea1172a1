import { isLoopback } from '../../platform/gateway/exposure.js'
import { rateLimitOf } from '../../platform/gateway/options.js'
import { createRegistry } from '../../registry/from-env.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, parseCommand, UsageError } from '../args.js'

/** `micro api --help` */
export const API_HELP = `Usage: micro api [options]

Run the API gateway alone: HTTP to every service in the registry, until SIGINT/SIGTERM.

  POST /api/greeter/hello            greeter Greeter.Hello (Micro v3 path rules)
  POST /api/greeter/Greeter.Hello    the endpoint as written
  POST /rpc                          {"service", "endpoint", "request", "version", "timeout"}
  WebSocket or SSE on a streaming endpoint; GET /health/live|ready, /metrics

  micro api
  curl -XPOST 127.0.0.1:8080/api/greeter/hello -d '{"name":"Alice"}'

Options:
  --address <host:port>       listen address (MICRO_GATEWAY_ADDRESS, default 127.0.0.1:8080)
  --cors_origins <list>       origins browsers may call from, comma-separated (MICRO_GATEWAY_CORS_ORIGINS)
  --rate_limit <rate[/burst]> requests a second per client, 0 for none (MICRO_GATEWAY_RATE_LIMIT, default 100/200)
  --request_timeout <dur>     deadline of each call (MICRO_GATEWAY_REQUEST_TIMEOUT, default 30s)
  --max_body <bytes>          largest request body (MICRO_GATEWAY_MAX_BODY, default 1048576)
${GLOBAL_HELP}`

/**
 * `micro api`: serve the gateway on --address until a signal (or `stop` aborts); resolves
 * with the exit code. Prints the address it serves on, with a curl line to try.
 */
export async function apiCommand(
  argv: string[],
  out: (text: string) => void = (t) => console.log(t),
  err: (text: string) => void = (t) => console.error(t),
  stop?: AbortSignal,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    address: { type: 'string' },
    cors_origins: { type: 'string' },
    rate_limit: { type: 'string' },
    request_timeout: { type: 'string' },
    max_body: { type: 'string' },
  })
  if (global.help) {
    out(API_HELP)
    return 0
  }
  if (positionals.length > 0) throw new UsageError(`api takes no arguments (got ${positionals.join(' ')})`)
  const maxBody = values.max_body === undefined ? undefined : Number(values.max_body)
  if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody < 1)) {
    throw new UsageError(`--max_body must be a number of bytes, not ${values.max_body}`)
  }
  let rateLimit: ReturnType<typeof rateLimitOf> | undefined
  try {
    rateLimit = values.rate_limit === undefined ? undefined : rateLimitOf(values.rate_limit as string)
  } catch (error) {
    throw new UsageError((error as Error).message.replace('MICRO_GATEWAY_RATE_LIMIT', '--rate_limit'))
  }
  // The gateway (and node:http) load only when this command runs, not with every CLI command.
  const { serveGateway } = await import('../../platform/gateway/serve.js')
  const registry = createRegistry(global.registry, global.registryAddress)
  const served = await serveGateway({
    address: values.address as string | undefined,
    registry,
    namespace: global.namespace,
    corsOrigins: (values.cors_origins as string | undefined)
      ?.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    rateLimit,
    requestTimeout:
      values.request_timeout === undefined
        ? undefined
        : parseDuration(values.request_timeout as string, '--request_timeout'),
    maxBodySize: maxBody,
  }).catch(async (error: unknown) => {
    await registry.close()
    throw error
  })
  out(
    `micro api serving on http://${served.address} (namespace ${global.namespace})\n` +
      `  curl -XPOST http://${served.address}/api/greeter/hello -d '{"name":"Alice"}'`,
  )
  if (!isLoopback(served.address)) {
    err(
      `micro api: WARNING: ${served.address} is reachable from other machines and the gateway has no auth yet`,
    )
  }
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
  await served.close()
  await registry.close()
  return 0
}
