import type { EndpointRecord, NodeRecord, ServiceRecord } from '../registry/registry.js'

/** An HTTP server the process runs beside (or instead of) its RPC port: the http kind. */
export interface HttpAdvert {
  /** `http://host:port` */
  address: string
  /** Where the app is mounted (`/` for the root). */
  basePath: string
  /** The app's routes when it lists them (Hono's `app.routes`), relative to the base path. */
  routes?: readonly { method: string; path: string }[]
}

/** What a service advertises besides its RPC server and endpoints: an HTTP server, node metadata. */
export class Advertised {
  http: HttpAdvert | undefined
  readonly nodeMetadata: Record<string, string> = {}

  /** Set entries of the node metadata; undefined removes one. */
  setNodeMetadata(entries: Record<string, string | undefined>): void {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete this.nodeMetadata[key]
      else this.nodeMetadata[key] = value
    }
  }
}

/** What one node of the service is, as the registry shows it. */
export interface RecordParts {
  id: string
  name: string
  version: string
  metadata: Record<string, string>
  /** The RPC listener's advertised address; undefined when the process serves no RPC. */
  rpcAddress: string | undefined
  transport: string
  registry: string
  endpoints: EndpointRecord[]
  http: HttpAdvert | undefined
  /** Extra node metadata (`metrics` ...). */
  nodeMetadata: Record<string, string>
}

/**
 * The service's registry record: one node. With an RPC listener the node's address is
 * it (protocol `micro`, or `grpc` on the gRPC transport) and an HTTP server is named in the metadata (`http`); a process
 * with only an HTTP server is a node at that address with protocol `http`. HTTP routes
 * are listed as endpoints named `METHOD /path`. Nothing to advertise: undefined.
 */
export function serviceRecord(parts: RecordParts): ServiceRecord | undefined {
  const { http } = parts
  const httpUrl = http ? joinUrl(http.address, http.basePath) : undefined
  let node: NodeRecord
  if (parts.rpcAddress !== undefined) {
    // gRPC nodes speak gRPC; micro and NATS nodes speak the micro protocol.
    const protocol = parts.transport === 'grpc' ? 'grpc' : 'micro'
    node = {
      id: parts.id,
      address: parts.rpcAddress,
      metadata: {
        protocol,
        transport: parts.transport,
        registry: parts.registry,
        server: protocol,
        ...(httpUrl ? { http: httpUrl } : {}),
        ...parts.nodeMetadata,
      },
    }
  } else if (http && httpUrl) {
    node = {
      id: parts.id,
      address: new URL(http.address).host,
      metadata: {
        protocol: 'http',
        transport: 'http',
        registry: parts.registry,
        server: 'http',
        http: httpUrl,
        ...parts.nodeMetadata,
      },
    }
  } else {
    return undefined
  }
  return {
    name: parts.name,
    version: parts.version,
    metadata: { ...parts.metadata },
    endpoints: [...parts.endpoints, ...httpEndpoints(http)],
    nodes: [node],
  }
}

/** `GET /orders/:id` endpoints from the app's routes (middleware entries, `ALL` and `*`, left out). */
function httpEndpoints(http: HttpAdvert | undefined): EndpointRecord[] {
  if (!http?.routes) return []
  const seen = new Map<string, EndpointRecord>()
  for (const route of http.routes) {
    if (typeof route?.method !== 'string' || typeof route.path !== 'string') continue
    const method = route.method.toUpperCase()
    if (method === 'ALL' || route.path.includes('*')) continue
    const path = joinPath(http.basePath, route.path)
    const name = `${method} ${path}`
    if (!seen.has(name)) seen.set(name, { name, metadata: { protocol: 'http', method, path } })
  }
  return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name))
}

function joinUrl(address: string, basePath: string): string {
  return basePath === '/' || basePath === '' ? address : `${address}${basePath}`
}

function joinPath(basePath: string, path: string): string {
  const base = basePath === '/' ? '' : basePath
  const rest = path.startsWith('/') ? path : `/${path}`
  return rest === '/' && base !== '' ? base : `${base}${rest}`
}
