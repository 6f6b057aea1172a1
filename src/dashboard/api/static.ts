import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { basename, dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
}

/** Everything the page may load comes from here: no CDN, no inline script. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

interface Asset {
  type: string
  etag: string
  identity: Buffer
  gzip?: Buffer
  br?: Buffer
}

/** The built UI's folder: `dist/dashboard` of this package, found from this module's place. */
export function defaultAssetsDirectory(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (basename(dir) === 'dist' && existsSync(join(dir, 'dashboard', 'index.html')))
      return join(dir, 'dashboard')
    if (existsSync(join(dir, 'dist', 'dashboard', 'index.html'))) return join(dir, 'dist', 'dashboard')
    dir = dirname(dir)
  }
  return undefined
}

/**
 * The built UI, read once into memory with its precompressed copies (`.br`, `.gz` made at
 * build time). `index.html` is revalidated on every load; the hashed assets are immutable.
 */
export class StaticAssets {
  readonly #assets = new Map<string, Asset>()
  readonly directory: string | undefined

  constructor(directory: string | undefined = defaultAssetsDirectory()) {
    this.directory = directory
    if (!directory || !existsSync(directory)) return
    for (const name of readdirSync(directory, { recursive: true }) as string[]) {
      if (name.endsWith('.gz') || name.endsWith('.br')) continue
      const path = join(directory, name)
      const type = TYPES[extname(name)]
      if (!type) continue
      let identity: Buffer
      try {
        identity = readFileSync(path)
      } catch {
        continue
      }
      const asset: Asset = {
        type,
        etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
        identity,
      }
      if (existsSync(`${path}.gz`)) asset.gzip = readFileSync(`${path}.gz`)
      if (existsSync(`${path}.br`)) asset.br = readFileSync(`${path}.br`)
      this.#assets.set(name.split('\\').join('/'), asset)
    }
  }

  /** Whether the UI was built and found. */
  get built(): boolean {
    return this.#assets.has('index.html')
  }

  /** Serve `name` (relative to the assets folder); false when there is no such asset. */
  serve(req: IncomingMessage, res: ServerResponse, name: string): boolean {
    const asset = this.#assets.get(name)
    if (!asset) return false
    const immutable = name.startsWith('assets/')
    const headers: Record<string, string | number> = {
      'content-type': asset.type,
      etag: asset.etag,
      vary: 'accept-encoding',
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    }
    if (name === 'index.html') {
      headers['content-security-policy'] = CSP
      headers['x-frame-options'] = 'DENY'
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers)
      res.end()
      return true
    }
    const accept = String(req.headers['accept-encoding'] ?? '')
    let body = asset.identity
    if (asset.br && /\bbr\b/.test(accept)) {
      body = asset.br
      headers['content-encoding'] = 'br'
    } else if (asset.gzip && /\bgzip\b/.test(accept)) {
      body = asset.gzip
      headers['content-encoding'] = 'gzip'
    }
    headers['content-length'] = body.length
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }
}

/** What `/` answers when the UI was not built: the API works without it. */
export const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>micro dashboard</title>
<p>The dashboard's UI is not built. Run <code>npm run build</code>; the API is at /dashboard/api/info.</p>`
