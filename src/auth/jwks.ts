import type { IncomingMessage, ServerResponse } from 'node:http'
import type { KeySet } from './key-source.js'

/** Where the public keys are published, on the HTTP port and the platform port. */
export const JWKS_PATH = '/.well-known/jwks.json'

/**
 * A node:http handler for `GET /.well-known/jwks.json`: the public keys (a JWKS document)
 * that verify the platform's tokens. Returns false for any other path, so it fits the
 * server's prefix router and a service port's GET routes (`routes.get(JWKS_PATH)`). Only
 * public keys are ever in it (`d` and symmetric keys are refused when keys are loaded).
 */
export function jwksHandler(keys: () => KeySet): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== JWKS_PATH) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ id: 'micro.auth', code: 405, detail: 'use GET', status: 'Method Not Allowed' }),
      )
      return true
    }
    const text = JSON.stringify({ keys: keys().keys })
    res.writeHead(200, {
      'content-type': 'application/jwk-set+json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'public, max-age=60',
    })
    res.end(req.method === 'HEAD' ? undefined : text)
    return true
  }
}
