import type { IncomingMessage } from 'node:http'
import { badRequest, forbidden, MicroError, unsupportedMediaType } from '../../errors/errors.js'
import type { Service } from '../../service/service.js'
import { resolveApiPath } from '../gateway/routes.js'
import { readBody } from '../http/body.js'
import { sendError, sendJson } from '../http/reply.js'
import { type HttpPart, pathOf } from '../http/router.js'

const ID = 'micro.gateway'
const MAX_BODY = 64 * 1024

/**
 * `POST /api/platform/Auth.Login` (and Micro v3's `/api/platform/auth/login`) answered in
 * the server's own process, ahead of the gateway: the login limits count per client
 * (`x-forwarded-for` = the HTTP client's address, which only an in-process caller may
 * say), where a login the gateway forwarded over the network would come from the server's
 * own address and every client would share one bucket. Same JSON in and out as through
 * the gateway; cross-site requests and non-JSON bodies are refused, as the gateway does.
 */
export function gatewayLogin(platform: Service): HttpPart {
  return {
    handle(req, res) {
      const path = pathOf(req.url)
      if (!path.startsWith('/api/platform/')) return false
      const route = resolveApiPath(path.slice(4))
      if (route?.service !== 'platform' || route.endpoint !== 'Auth.Login') return false
      void (async () => {
        try {
          if (req.method !== 'POST') throw new MicroError(ID, 'log in with POST', 405)
          refuseCrossSite(req)
          const request = parse(await readBody(req, MAX_BODY, ID), req.headers['content-type'])
          const source = req.socket.remoteAddress ?? 'unknown'
          const reply = await platform.client.call('platform', 'Auth.Login', request, {
            metadata: { 'x-forwarded-for': source },
            timeout: 10_000,
          })
          sendJson(res, 200, JSON.stringify(reply))
        } catch (error) {
          if (!req.complete) res.setHeader('connection', 'close')
          sendError(res, MicroError.from(error, ID))
        }
      })()
      return true
    },
  }
}

function refuseCrossSite(req: IncomingMessage): void {
  const origin = req.headers.origin
  if (origin === undefined) return
  let host: string | undefined
  try {
    host = new URL(origin).host
  } catch {}
  if (host !== req.headers.host) throw forbidden(ID, `requests from ${origin} are not allowed`)
}

function parse(body: Buffer, type: string | undefined): unknown {
  if (type !== undefined && !/^(application\/json|text\/plain)\b/i.test(type))
    throw unsupportedMediaType(ID, 'a login is JSON: {"namespace", "id", "secret"} or {"token"}')
  if (body.length === 0) return {}
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw badRequest(ID, 'the login body is not valid JSON')
  }
}
