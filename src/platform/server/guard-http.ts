import type { Account } from '../../auth/auth.js'
import { tokenFromRequest } from '../../auth/gateway.js'
import { isPrivileged, PLATFORM_NAMESPACE } from '../../auth/rules.js'
import type { TokenVerifier } from '../../auth/verifier.js'
import { forbidden, MicroError, unauthorized } from '../../errors/errors.js'
import { sendError } from '../http/reply.js'
import { type HttpPart, pathOf } from '../http/router.js'

/** Why a verified account may not have a path: a reason for the 403, or undefined when it may. */
export type AccountCheck = (account: Account) => string | undefined

/**
 * An HTTP part that answers `path` only for requests with a valid platform token (bearer,
 * `?token=` or the `micro_token` cookie) whose account passes `check` (every account
 * when none is given): what `micro server` puts in front of the OTLP receiver, the
 * OpenAPI document and `/metrics` when it enforces auth, so an anonymous caller can
 * neither feed the trace store nor list the services. No token or a bad one is a 401,
 * an account `check` refuses a 403. Other paths pass untouched.
 */
export function requireToken(
  part: HttpPart,
  path: string,
  verifier: TokenVerifier,
  check?: AccountCheck,
): HttpPart {
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
        ({ caller }) => {
          const why = check?.(caller.account)
          if (why !== undefined) refuse(req, res, forbidden('micro.auth', `${path}: ${why}`))
          else if (!part.handle(req, res))
            refuse(req, res, unauthorized('micro.auth', `${path} is not served`))
        },
        (error: unknown) => refuse(req, res, MicroError.from(error)),
      )
      return true
    },
  }
}

/** The scope that lets an account of `micro` read `/metrics` without being an admin (a Prometheus scraper's). */
export const METRICS_SCOPE = 'metrics'

/**
 * Who may scrape the server's `/metrics`: its counters name the services of every
 * namespace, so an account of `micro` that is an admin (a user holding `admin`, a service
 * holding `service`) or holds the `metrics` scope.
 */
export const metricsReader: AccountCheck = (account) => {
  if (
    account.issuer === PLATFORM_NAMESPACE &&
    (isPrivileged(account) || account.scopes.includes(METRICS_SCOPE))
  )
    return undefined
  return `needs an admin of namespace ${PLATFORM_NAMESPACE} or an account of it holding the ${METRICS_SCOPE} scope; ${account.issuer}/${account.id} is neither`
}

function refuse(
  req: Parameters<HttpPart['handle']>[0],
  res: Parameters<HttpPart['handle']>[1],
  error: MicroError,
): void {
  if (!req.complete) res.setHeader('connection', 'close')
  req.resume()
  if (error.code === 401) res.setHeader('www-authenticate', 'Bearer realm="micro"')
  sendError(res, error)
}
