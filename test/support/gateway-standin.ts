import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Client } from '../../src/client/client.js'
import { MicroError } from '../../src/errors/errors.js'

/**
 * A STAND-IN for src/platform/gateway (on another branch): exactly the gateway's contract
 * the generated client uses, `POST /api/{service}/{Handler.Method}` with a JSON body, the
 * reply as JSON or, with `Accept: text/event-stream`, SSE (`data:` per message, then
 * `event: end`, or `event: error` with the error JSON); errors as the error JSON with its
 * code as the HTTP status. Replace with createGateway when the branches meet.
 */
export async function startGatewayStandin(client: Client): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const route = /^\/api\/([^/]+)\/([^/.]+\.[^/.]+)$/.exec(req.url ?? '')
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const fail = (error: unknown) => {
      const e = MicroError.from(error)
      res.writeHead(e.code >= 400 && e.code < 600 ? e.code : 500, { 'content-type': 'application/json' })
      res.end(JSON.stringify(e))
    }
    if (req.method !== 'POST' || !route) return fail(new MicroError('micro.gateway', 'no route', 404))
    const [, service, endpoint] = route as unknown as [string, string, string]
    try {
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString()) : {}
      if (!req.headers.accept?.includes('text/event-stream')) {
        const reply = await client.call(decodeURIComponent(service), decodeURIComponent(endpoint), body)
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply ?? null))
        return
      }
      const stream = client.stream(decodeURIComponent(service), decodeURIComponent(endpoint))
      await stream.send(body)
      await stream.closeSend()
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      try {
        for await (const message of stream) res.write(`data: ${JSON.stringify(message)}\n\n`)
        res.end('event: end\ndata: {}\n\n')
      } catch (error) {
        res.end(`event: error\ndata: ${JSON.stringify(MicroError.from(error))}\n\n`)
      }
    } catch (error) {
      fail(error)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}
