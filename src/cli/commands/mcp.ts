import { once } from 'node:events'
import type { Broker } from '../../broker/broker.js'
import { publish } from '../../broker/publish.js'
import type { ClientWrapper } from '../../client/wrappers.js'
import { eventsFromEnv } from '../../events/from-env.js'
import { inspectorOf } from '../../events/inspector.js'
import { createLogger } from '../../logger/logger.js'
import { forwardedAccess } from '../../mcp/access.js'
import { logAudit } from '../../mcp/audit.js'
import { McpEngine } from '../../mcp/engine.js'
import type { DevSources, LogReader, PlatformSources, Publisher } from '../../mcp/sources.js'
import { serveMcpStdio } from '../../mcp/stdio.js'
import type { LogRecord } from '../../platform/runtime/types.js'
import { storeFromEnv } from '../../store/from-env.js'
import type { Store } from '../../store/store.js'
import { parseDuration } from '../../util/duration.js'
import { GLOBAL_HELP, type GlobalOptions, parseCommand, UsageError } from '../args.js'
import { accessTokenFor, cliAuthWrapper, tokenTarget } from '../auth-tokens.js'
import { platformEvents, platformStore } from '../platform/blocks.js'
import { PlatformClient } from '../platform/platform-client.js'
import { openSession } from '../session.js'
import { openBroker } from './publish.js'

export const MCP_HELP = `Usage: micro mcp serve|tools [options]

The Model Context Protocol for AI agents: every endpoint of every service in the
namespace is a tool named <service>_<Handler>_<Method> (greeter_Greeter_Hello).
micro server serves it over HTTP at /mcp; micro mcp serve speaks it over stdio for
IDE agents, through the platform in use (micro env) or on this machine.

  micro mcp serve                    one tool per endpoint, over stdio
  micro mcp serve --dev              and the developer tools: get_services, call_endpoint,
                                     get_logs, store_read, get_events, get_dead_letters ...
  micro mcp serve --platform-tools   and the admin tools micro_registry_list,
                                     micro_store_read, micro_broker_publish
  micro mcp tools [--json]           the tools as agents see them

Claude Code:  claude mcp add micro -- micro mcp serve --dev
Calls carry MICRO_AUTH_TOKEN, else your micro login; the platform (or the service)
checks them. Audit lines go to stderr.

Options:
  --dev                     add the developer tools
  --platform-tools          add the admin-only platform tools
  --timeout <30s>           deadline of each call
${GLOBAL_HELP}`

/** `micro mcp serve|tools`. */
export async function mcpCommand(
  argv: string[],
  out: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, {
    dev: { type: 'boolean' },
    'platform-tools': { type: 'boolean' },
    timeout: { type: 'string' },
  })
  if (global.help) {
    out(MCP_HELP)
    return 0
  }
  const [sub, ...rest] = positionals
  if (sub !== 'serve' && sub !== 'tools') throw new UsageError('mcp needs serve or tools')
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`)
  let timeout = 30_000
  if (values.timeout !== undefined) {
    try {
      timeout = parseDuration(values.timeout as string, '--timeout')
    } catch (error) {
      throw new UsageError((error as Error).message)
    }
  }
  const opened = openMcp(global, values.platform as string | undefined, env, {
    dev: values.dev === true,
    platformTools: values['platform-tools'] === true,
    timeout,
  })
  try {
    if (sub === 'tools') {
      await opened.engine.start()
      const tools = opened.engine.catalogue.tools().map((t) => t.tool)
      if (global.json) out(JSON.stringify({ tools }, null, 2))
      else if (tools.length === 0) out(`no tools: no service is registered in namespace ${global.namespace}`)
      else for (const tool of tools) out(`${tool.name}\n    ${(tool.description ?? '').split('\n')[0]}`)
      return 0
    }
    await opened.engine.start()
    const stop = new AbortController()
    const end = () => stop.abort()
    const served = serveMcpStdio(opened.engine, { transport: 'stdio' }, { onClose: end })
    process.once('SIGINT', end)
    process.once('SIGTERM', end)
    signal?.addEventListener('abort', end, { once: true })
    if (!stop.signal.aborted) await once(stop.signal, 'abort')
    process.off('SIGINT', end)
    process.off('SIGTERM', end)
    await served.close()
    return 0
  } finally {
    await opened.close()
  }
}

/** The engine `micro mcp` serves, over the CLI's session, with what it opened to close. */
function openMcp(
  global: GlobalOptions,
  platformFlag: string | undefined,
  env: NodeJS.ProcessEnv,
  options: { dev: boolean; platformTools: boolean; timeout: number },
) {
  const session = openSession(global)
  const token = tokenSource(platformFlag, env)
  session.client.wrap(env.MICRO_AUTH_TOKEN ? bearerWrapper(token) : cliAuthWrapper(platformFlag, env))
  const platform =
    global.platform === undefined ? undefined : PlatformClient.connect(global.platform, global.namespace)
  const closers: (() => Promise<void>)[] = []
  let store: Store | undefined
  const storeOf = (): Store => {
    if (store === undefined) {
      const opened = global.platform ? platformStore(global.platform) : storeFromEnv(env)
      closers.push(() => opened.close())
      store = opened
    }
    return store
  }
  let dev: DevSources | undefined
  if (options.dev) {
    const events = global.platform ? platformEvents(global.platform, global.namespace) : eventsFromEnv(env)
    closers.push(() => events.close())
    dev = { store: storeOf(), events: { events, inspector: inspectorOf(events) } }
    if (platform) dev.logs = platformLogs(platform)
  }
  let platformSources: PlatformSources | undefined
  if (options.platformTools) {
    platformSources = { store: storeOf(), publisher: publisherFor(global, closers) }
  }
  const engine = new McpEngine({
    // Re-read every 2 s: a session (direct or through a platform) lists, it does not watch.
    services: { listServices: (namespace) => session.services.listServices(namespace) },
    client: {
      call: (service, endpoint, request, callOptions) =>
        session.call(service, endpoint, request, callOptions),
    },
    namespace: global.namespace,
    access: forwardedAccess(token),
    audit: logAudit(createLogger({ fields: { component: 'micro.mcp' } })),
    pollInterval: 2000,
    timeout: options.timeout,
    dev,
    platform: platformSources,
    serverInfo: { name: 'micro', version: '1' },
    logger: createLogger({ fields: { component: 'micro.mcp' } }),
  })
  return {
    engine,
    async close() {
      engine.close()
      for (const close of closers) await close().catch(() => {})
      await platform?.close()
      await session.close()
    },
  }
}

/** The caller's token: MICRO_AUTH_TOKEN, else the kept login (refreshed when due), read again every 30 s. */
function tokenSource(
  platformFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): () => Promise<string | undefined> {
  const fixed = env.MICRO_AUTH_TOKEN
  if (fixed) return async () => fixed
  let cached: Promise<string | undefined> | undefined
  let readAt = 0
  return () => {
    if (cached === undefined || Date.now() - readAt > 30_000) {
      readAt = Date.now()
      cached = tokenTarget(platformFlag, env)
        .then((target) => accessTokenFor(target, env))
        .catch(() => undefined)
    }
    return cached
  }
}

/** Send `Authorization: Bearer <token>` on every call that sets none itself. */
function bearerWrapper(token: () => Promise<string | undefined>): ClientWrapper {
  return (next) => async (request) => {
    if (request.options.metadata?.authorization !== undefined) return next(request)
    const value = await token()
    if (value === undefined) return next(request)
    const metadata = { ...request.options.metadata, authorization: `Bearer ${value}` }
    return next({ ...request, options: { ...request.options, metadata } })
  }
}

/** A service's output through the platform's `Runtime.Logs` stream. */
function platformLogs(platform: PlatformClient): LogReader {
  return {
    async *logs(service, options = {}) {
      const stream = await platform.stream<unknown, LogRecord>('Runtime.Logs', { signal: options.signal })
      await stream.send({
        namespace: service.namespace,
        name: service.name,
        lines: options.lines,
        since: options.since,
      })
      await stream.closeSend()
      yield* stream
    },
  }
}

/** Publishing through the platform's broker, or the broker MICRO_BROKER names on this machine. */
function publisherFor(global: GlobalOptions, closers: (() => Promise<void>)[]): Publisher {
  let broker: Broker | undefined
  return {
    publish(topic, message) {
      if (broker === undefined) {
        // Through the platform's broker when one is in use (openBroker picks), else this machine's.
        const opened = openBroker(global, {})
        closers.push(() => opened.close())
        broker = opened.broker
      }
      return publish(broker, topic, message, { caller: 'micro.mcp' })
    },
  }
}
