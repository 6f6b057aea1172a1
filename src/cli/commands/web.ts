import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { secretKeyFromEnv } from '../../config/cipher.js'
import { storeKV } from '../../config/store-kv.js'
import { createDashboard, type Dashboard } from '../../dashboard/api/dashboard.js'
import { configSourceFromKV } from '../../dashboard/config-source.js'
import type { DashboardSources } from '../../dashboard/sources.js'
import { eventsFromEnv } from '../../events/from-env.js'
import { inspectorOf } from '../../events/inspector.js'
import { storeFromEnv } from '../../store/from-env.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'
import { platformEvents, platformStore } from '../platform/blocks.js'
import { openSession } from '../session.js'

export const WEB_HELP = `Usage: micro web [options]

Serve the dashboard alone (micro server and micro run serve it at / next to the
gateway): services, the API explorer, events, store and config of this machine, or
of the platform in use (micro env). Traces, logs and auth need micro server.

  micro web                          http://127.0.0.1:8082
  micro web --address 127.0.0.1:9000 --read-only

Options:
  --address <host:port>   where to listen (MICRO_WEB_ADDRESS, default 127.0.0.1:8082);
                          loopback only: micro web has no login of its own
  --read-only             refuse every change (calls, publishes, writes) and hide them
${GLOBAL_HELP}`

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/

/** `host:port` split and checked: loopback only, a port from 0 to 65535. */
export function webAddress(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':')
  const host = at > 0 ? text.slice(0, at) : '127.0.0.1'
  const port = Number(at >= 0 ? text.slice(at + 1) : text)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`bad --address ${text}: want host:port`)
  if (!LOOPBACK.test(host))
    throw new UsageError(
      `micro web serves without a login, so it listens on loopback only (got ${host}); expose the dashboard through micro server with auth`,
    )
  return { host: host.replace(/^\[|\]$/g, ''), port }
}

/** The dashboard's sources for the CLI's context: this machine's blocks, or the platform's. */
export function webSources(global: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
  const session = openSession(global)
  const platform = global.platform
  const store = platform ? platformStore(platform) : storeFromEnv(env)
  const events = platform ? platformEvents(platform, global.namespace) : eventsFromEnv(env)
  let secretKey: Buffer | undefined
  try {
    secretKey = env.MICRO_CONFIG_SECRET_KEY ? secretKeyFromEnv(env) : undefined
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const sources: DashboardSources = {
    registry: { listServices: (namespace) => session.services.listServices(namespace) },
    client: {
      call: (service, endpoint, request, options) => session.call(service, endpoint, request, options),
      stream: (service, endpoint, options) => session.stream(service, endpoint, options),
    },
    events: { events, inspector: inspectorOf(events) },
    store,
    config: configSourceFromKV(storeKV(store), secretKey ? { secretKey: () => secretKey } : {}),
  }
  return {
    sources,
    async close() {
      await session.close()
      await events.close()
      await store.close()
    },
  }
}

/** A started `micro web`: its URL, and how to stop it. */
export interface WebServer {
  url: string
  dashboard: Dashboard
  server: Server
  close(): Promise<void>
}

/** Start the dashboard on its own HTTP server (for `micro web` and tests). */
export async function startWeb(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<WebServer | undefined> {
  const { global, values } = parseCommand(argv, {
    address: { type: 'string' },
    'read-only': { type: 'boolean' },
  })
  if (global.help) return undefined
  const { host, port } = webAddress(
    (values.address as string | undefined) ?? env.MICRO_WEB_ADDRESS ?? '127.0.0.1:8082',
  )
  const opened = webSources(global, env)
  const dashboard = createDashboard(opened.sources, {
    namespace: global.namespace,
    readOnly: values['read-only'] === true,
  })
  const server = createServer(async (req, res) => {
    if (await dashboard.handle(req, res)) return
    res.writeHead(302, { location: '/' })
    res.end()
  })
  server.listen(port, host)
  try {
    await once(server, 'listening')
  } catch (error) {
    await opened.close()
    throw error
  }
  const address = server.address() as AddressInfo
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${shown}:${address.port}`,
    dashboard,
    server,
    async close() {
      dashboard.close()
      server.closeAllConnections()
      server.close()
      await opened.close()
    },
  }
}

/** `micro web`: serve the dashboard until SIGINT/SIGTERM (or `signal`). */
export async function webCommand(
  argv: string[],
  out: (text: string) => void,
  signal?: AbortSignal,
): Promise<number> {
  const web = await startWeb(argv)
  if (!web) {
    out(WEB_HELP)
    return 0
  }
  out(`micro web: the dashboard is at ${web.url} (Ctrl-C to stop)`)
  const stop = new AbortController()
  const handler = () => stop.abort()
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  signal?.addEventListener('abort', handler, { once: true })
  if (!stop.signal.aborted) await once(stop.signal, 'abort')
  process.off('SIGINT', handler)
  process.off('SIGTERM', handler)
  await web.close()
  return 0
}
