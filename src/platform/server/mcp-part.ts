import type { IncomingMessage, ServerResponse } from 'node:http'
import type { GatewayAuthorizer } from '../../auth/gateway.js'
import type { Client } from '../../client/client.js'
import { MicroError } from '../../errors/errors.js'
import type { Logger } from '../../logger/logger.js'
import type { Registry } from '../../registry/registry.js'
import type { HttpPart } from '../http/router.js'

/** What the server's `/mcp` is made of. */
export interface ServerMcpParts {
  registry: Registry
  client: Client
  namespace: string
  authorizer: GatewayAuthorizer
  logger: Logger
}

/** `/mcp` of `micro server`, and how to close it. */
export interface ServerMcp extends HttpPart {
  close(): Promise<void>
}

const MCP_PATH = '/mcp'

/**
 * `/mcp` (MCP over Streamable HTTP: every endpoint of the namespace a tool, checked by the
 * gateway's authorizer, audited to the log). The MCP SDK is loaded by the first request to
 * `/mcp`, not at start: a server nobody asks over MCP does not hold it in memory.
 */
export function serverMcp(parts: ServerMcpParts): ServerMcp {
  let loading:
    | Promise<{ handle(req: IncomingMessage, res: ServerResponse): boolean; close(): Promise<void> }>
    | undefined
  let closed = false
  const load = async () => {
    const [{ McpEngine }, { createMcpHttpHandler }, { authorizerAccess }, { logAudit }, { registrySource }] =
      await Promise.all([
        import('../../mcp/engine.js'),
        import('../../mcp/http.js'),
        import('../../mcp/access.js'),
        import('../../mcp/audit.js'),
        import('../../mcp/sources.js'),
      ])
    const logger = parts.logger.child({ component: 'mcp' })
    const engine = new McpEngine({
      services: registrySource(parts.registry),
      client: parts.client,
      namespace: parts.namespace,
      access: authorizerAccess(parts.authorizer),
      audit: logAudit(logger),
      logger,
    })
    await engine.start()
    const http = createMcpHttpHandler(engine, { path: MCP_PATH, logger })
    return {
      handle: (req: IncomingMessage, res: ServerResponse) => http.handle(req, res),
      async close() {
        await http.close()
        engine.close()
      },
    }
  }
  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0]
      if (path !== MCP_PATH || closed) return false
      loading ??= load()
      loading.then(
        (mcp) => {
          if (!mcp.handle(req, res)) res.writeHead(404).end()
        },
        (error: unknown) => {
          loading = undefined
          parts.logger.error('mcp: cannot start', { error: (error as Error).message })
          const e = new MicroError('micro.mcp', 'the MCP server could not start', 503)
          const body = JSON.stringify(e)
          res.writeHead(503, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          })
          res.end(body)
        },
      )
      return true
    },
    async close() {
      closed = true
      const mcp = await loading?.catch(() => undefined)
      await mcp?.close()
    },
  }
}
