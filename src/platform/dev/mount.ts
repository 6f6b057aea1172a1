import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DevHttp, DevHttpContext } from './http.js'

/**
 * What the dev loop serves until the gateway and dashboard are mounted in its place
 * (`mountHttp` of {@link DevLoopOptions}): `GET /` lists the dev loop's services as JSON,
 * `GET /health` answers 200. Anything else falls through to the dev loop's 404.
 */
export function statusMount(context: DevHttpContext): DevHttp {
  return {
    handle(req: IncomingMessage, res: ServerResponse) {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') return false
      if (path === '/health') return json(res, { status: 'ok' })
      if (path === '/') {
        return json(res, {
          namespace: context.namespace,
          environment: context.environment,
          services: context.services(),
        })
      }
      return false
    },
    urls: [
      { label: 'Services', url: `http://${context.address}/` },
      { label: 'Health', url: `http://${context.address}/health` },
    ],
  }
}

function json(res: ServerResponse, body: unknown): true {
  const text = JSON.stringify(body, null, 2)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
  return true
}
