/** Query parameters whose values are credentials: never logged. */
const SECRET_PARAMS = [
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'secret',
  'password',
  'api_key',
  'apikey',
]
const SECRET_QUERY = new RegExp(`([?&;](?:${SECRET_PARAMS.join('|')})=)[^&#;]*`, 'gi')
/** A JWT (three base64url parts, the first a JSON header) anywhere in a text. */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
const BEARER = /\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+/gi

/**
 * A URL fit for a log line: the values of `token`, `access_token`, `secret` and the like
 * replaced by `[redacted]` (`/events?token=eyJ...` → `/events?token=[redacted]`). Browsers
 * can only send a token in the URL for SSE and WebSocket, so the gateway takes one there;
 * it must never reach a log or an error.
 */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]')
}

/** A text fit for a log line: URLs' secret parameters, JWTs and `Bearer ...` values redacted. */
export function redactText(text: string): string {
  return redactUrl(text).replace(BEARER, '$1 [redacted]').replace(JWT, '[redacted]')
}
