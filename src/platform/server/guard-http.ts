import { tokenFromRequest } from '../../auth/gateway.js'
import type { TokenVerifier } from '../../auth/verifier.js'
import { MicroError, unauthorized } from '../../errors/errors.js'
import { sendError } from '../http/reply.js'
import { type HttpPart, pathOf } from '../http/router.js'

/**
 * An HTTP part that answers `path` only for requests with a valid platform token (bearer,
 * `?token=` or the `micro_token` cookie): what `micro server` puts in front of the OTLP
 * receiver and the OpenAPI document when it enforces auth, so an anonymous caller can
 * neither feed the trace store nor list the services. Other paths pass untouched.
 */
export function requireToken(part: HttpPart, path: string, verifier: TokenVerifier): HttpPart {
  return {
    handle(req, res) {
      if (pathOf(req.url) !== path) return false
      let found: { token: string; key: string } | undefined
      try {
        found = tokenFromRequest(req)
      } catch (error) {
        refuse(req, res, MicroError.from(error))
        return true
      }
      if (found === undefined) {
        refuse(req, res, unauthorized('micro.auth', `${path}: log in or send a token`))
        return true
      }
      const { token, key } = found
      verifier.verify(token, key).then(
        () => {
          if (!part.handle(req, res)) refuse(req, res, unauthorized('micro.auth', `${path} is not served`))
        },
        (error: unknown) => refuse(req, res, MicroError.from(error)),
      )
      return true
    },
  }
}

function refuse(
  req: Parameters<HttpPart['handle']>[0],
  res: Parameters<HttpPart['handle']>[1],
  error: MicroError,
): void {
  if (!req.complete) res.setHeader('connection', 'close')
  req.resume()
  res.setHeader('www-authenticate', 'Bearer realm="micro"')
  sendError(res, error)
}
