import type { IncomingMessage } from 'node:http'
import { forbidden, newError, unauthorized } from '../../errors/errors.js'
import { DASHBOARD_ID } from './http.js'
import type { Identity } from './types.js'

/** The cookie the login page sets: HttpOnly, SameSite=Strict, so scripts and other sites never see it. */
export const TOKEN_COOKIE = 'micro_token'

/**
 * The gateway's authorizer, as the dashboard uses it: turn a token into an identity, and
 * (optionally) credentials into a token. When given, every API route but `info` and
 * `login` needs a valid token (a bearer header or the `micro_token` cookie).
 */
export interface DashboardAuth {
  /** The identity a token stands for, or undefined when it is not valid (expired, revoked, forged). */
  verify(token: string): Promise<Identity | undefined> | Identity | undefined
  /** A token for an account's id and secret, or undefined when they do not match. */
  login?(id: string, secret: string): Promise<LoginResult | undefined> | LoginResult | undefined
  /**
   * Whether a logged-in identity may use a route in a namespace (the platform's namespace
   * rule): throw (a 403 MicroError) to refuse. Called for every route that needs a login,
   * after the namespace is known. Without it any valid login may use every namespace.
   */
  authorize?(
    identity: Identity,
    namespace: string,
    route: { path: string; mutates: boolean },
  ): void | Promise<void>
}

/** What a login gives: the token, and when it expires (ms since the epoch). */
export interface LoginResult {
  token: string
  expires?: number
}

/** The token a request carries: `Authorization: Bearer`, else the cookie. */
export function requestToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization
  if (header?.toLowerCase().startsWith('bearer ')) return header.slice(7).trim() || undefined
  const cookies = req.headers.cookie
  if (!cookies) return undefined
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue
    try {
      return decodeURIComponent(part.slice(eq + 1).trim()) || undefined
    } catch {
      return undefined
    }
  }
  return undefined
}

/** The Set-Cookie value that stores (or, with no token, clears) the login. */
export function tokenCookie(req: IncomingMessage, token: string | undefined, expires?: number): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted ? '; Secure' : ''
  if (token === undefined) return `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure}`
  const maxAge =
    expires === undefined ? '' : `; Max-Age=${Math.max(0, Math.floor((expires - Date.now()) / 1000))}`
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict${maxAge}${secure}`
}

/**
 * Refuse a state-changing request that another site could have made: a browser sends
 * `Origin` (and `Sec-Fetch-Site`) on such requests, and they must name this host. The JSON
 * content type that bodies need (see readJson) is the other half: a plain form cannot set it.
 */
export function assertSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw forbidden(DASHBOARD_ID, 'cross-site requests are refused')
  const origin = req.headers.origin
  if (origin === undefined) return
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    throw forbidden(DASHBOARD_ID, 'cross-site requests are refused')
  }
  if (host !== req.headers.host) throw forbidden(DASHBOARD_ID, 'cross-site requests are refused')
}

/**
 * Failed logins per client address: past `max` in `window` ms, logins from there get a 429
 * until the window has passed, so a token or a password cannot be guessed at speed.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>()
  readonly #max: number
  readonly #window: number

  constructor(max = 10, window = 60_000) {
    this.#max = max
    this.#window = window
  }

  check(address: string): void {
    const entry = this.#failures.get(address)
    if (!entry) return
    if (Date.now() - entry.since > this.#window) this.#failures.delete(address)
    else if (entry.count >= this.#max)
      throw newError(DASHBOARD_ID, 'too many failed logins: wait a minute', 429)
  }

  failed(address: string): void {
    const entry = this.#failures.get(address)
    if (entry && Date.now() - entry.since <= this.#window) entry.count++
    else this.#failures.set(address, { count: 1, since: Date.now() })
    // Bounded: a flood from many addresses forgets the oldest.
    if (this.#failures.size > 10_000) this.#failures.delete(this.#failures.keys().next().value as string)
  }

  succeeded(address: string): void {
    this.#failures.delete(address)
  }
}

/** The 401 every protected route answers without a valid login. */
export function loginRequired(): Error {
  return unauthorized(DASHBOARD_ID, 'log in to use the dashboard')
}
