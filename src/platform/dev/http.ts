import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { DevEvent, DevServiceStatus } from './types.js'

/** The gateway's address when `--address` gives none. */
export const DEFAULT_DEV_ADDRESS = '127.0.0.1:8080'

/** What a mounted HTTP part gets from the dev loop. */
export interface DevHttpContext {
  /** `host:port` the dev loop listens on (the real port when 0 was asked for). */
  address: string
  namespace: string
  environment: string
  /** `--registry` / `--registry_address` when given (else the MICRO_* variables apply). */
  registry?: string
  registryAddress?: string
  /** The dev loop's services as they are now. */
  services(): DevServiceStatus[]
  /** Every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: DevEvent) => void): () => void
  /**
   * Restart a service with the dev loop's safe swap (rebuilt, checked, the new process
   * ready before the old one stops); a stopped one starts again. Resolves once it is
   * done; rejects for a name the dev loop does not run.
   */
  restart(name: string): Promise<void>
  /** Stop a service's process (it stays listed as `stopped` until restarted); rejects for an unknown name. */
  stop(name: string): Promise<void>
}

/** The HTTP side the dev loop serves: the gateway and the dashboard, mounted by the caller. */
export interface DevHttp {
  /** Answer a request; false (or a promise of it) lets the dev loop answer 404. */
  handle(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean>
  /** Take a WebSocket upgrade; false: the dev loop refuses it. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean | Promise<boolean>
  /** Lines of the banner, e.g. `{ label: 'Dashboard', url: 'http://127.0.0.1:8080/' }`. */
  urls?: { label: string; url: string }[]
  close?(): Promise<void>
}

/** Builds what the dev loop serves, once it holds its address. */
export type MountHttp = (context: DevHttpContext) => DevHttp | Promise<DevHttp>

/** The bound server of a dev loop. */
export interface DevHttpServer {
  address: string
  /** Serve `mount` (requests that came before it is ready wait for it). */
  mount(http: Promise<DevHttp>): void
  close(): Promise<void>
}

/** `host:port` (or `:port`) split; a clear error for anything else. */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address.trim())
  const port = Number(match?.[3])
  if (!match || port > 65_535) {
    throw new TypeError(`--address must be host:port, e.g. 127.0.0.1:8080 (got "${address}")`)
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port }
}

/**
 * Listen on `address` for the dev loop's gateway. Resolves `{ taken: true }` when another
 * process holds it (a second `micro run`, a `micro server`): the caller carries on
 * without a gateway of its own. Other failures (a host that is not this machine's, a
 * port below 1024) reject.
 */
export async function listenDevHttp(address: string): Promise<DevHttpServer | { taken: true }> {
  const { host, port } = parseAddress(address)
  // Requests that arrive between listen and mount wait for the mount.
  let setMounted: (http: Promise<DevHttp | undefined>) => void = () => {}
  const mounted = new Promise<DevHttp | undefined>((resolve) => {
    setMounted = resolve
  })
  mounted.catch(() => {})
  const server = createServer((req, res) => {
    void answer(mounted, req, res)
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(mounted, req, socket, head)
  })
  const bound = await new Promise<boolean>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(false)
      else reject(new Error(`cannot listen on ${address}: ${error.message}`))
    })
    server.listen(port, host, () => resolve(true))
  })
  if (!bound) return { taken: true }
  const info = server.address() as AddressInfo
  const actual = `${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`
  return {
    address: actual,
    mount(http) {
      setMounted(http)
    },
    async close() {
      setMounted(Promise.resolve(undefined))
      const http = await mounted.catch(() => undefined)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await http?.close?.()
    },
  }
}

async function answer(mounted: Promise<DevHttp | undefined>, req: IncomingMessage, res: ServerResponse) {
  try {
    const http = await mounted
    if (http && (await http.handle(req, res))) return
    if (!res.headersSent)
      reply(res, 404, {
        id: 'micro.dev',
        code: 404,
        detail: `${req.url} is not served here`,
        status: 'Not Found',
      })
  } catch {
    // The error's text stays in this process: it may hold what a caller must not see.
    if (!res.headersSent)
      reply(res, 500, {
        id: 'micro.dev',
        code: 500,
        detail: 'internal error',
        status: 'Internal Server Error',
      })
    else res.destroy()
  }
}

async function upgrade(
  mounted: Promise<DevHttp | undefined>,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
) {
  try {
    const http = await mounted
    if (http?.upgrade && (await http.upgrade(req, socket, head))) return
  } catch {
    // Refused below.
  }
  socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
