import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unauthorized } from '../../errors/errors.js'
import type { DashboardSources } from '../sources.js'
import { type DashboardAuth, type LoginThrottle, tokenCookie } from './auth.js'
import { DASHBOARD_ID, optionalString, sendJson } from './http.js'
import { HANDLED, type Route } from './router.js'
import type { DashboardInfo } from './types.js'

let packageVersion: string | undefined
/** This package's version, from the nearest micro-ts package.json above this module (src or dist). */
function versionOfPackage(): string {
  if (packageVersion !== undefined) return packageVersion
  packageVersion = 'dev'
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'micro-ts' && pkg.version) packageVersion = pkg.version
    } catch {
      // unreadable: keep looking up
    }
    if (packageVersion !== 'dev') break
  }
  return packageVersion
}

/** What the session routes need. */
export interface SessionRouteDeps {
  sources: DashboardSources
  options: { namespace: string; readOnly?: boolean; auth?: DashboardAuth; version?: string }
  throttle: LoginThrottle
}

/** `info` (what the UI may show, who is logged in), `login` and `logout`. */
export function sessionRoutes({ sources, options, throttle }: SessionRouteDeps): Route[] {
  const auth = options.auth
  return [
    {
      method: 'GET',
      path: '/info',
      public: true,
      handler(ctx): DashboardInfo {
        const events = sources.events
        return {
          version: options.version ?? versionOfPackage(),
          namespace: options.namespace,
          readOnly: options.readOnly === true,
          auth: { enabled: auth !== undefined, ...(ctx.identity ? { identity: ctx.identity } : {}) },
          features: {
            registry: sources.registry !== undefined,
            calls: sources.client !== undefined,
            traces: sources.traces !== undefined,
            runtime: sources.runtime !== undefined,
            events: events !== undefined,
            inspector: events?.inspector !== undefined,
            store: sources.store !== undefined,
            config: sources.config !== undefined,
            auth: sources.auth !== undefined,
          },
        }
      },
    },
    {
      method: 'POST',
      path: '/login',
      public: true,
      async handler(ctx) {
        if (!auth) throw unauthorized(DASHBOARD_ID, 'auth is off: there is nothing to log in to')
        const address = ctx.req.socket.remoteAddress ?? 'unknown'
        throttle.check(address)
        const body = await ctx.body()
        const given = optionalString(body, 'token', 8192)
        let token: string | undefined
        let expires: number | undefined
        if (given !== undefined) {
          if (await auth.verify(given)) token = given
        } else if (auth.login) {
          const id = optionalString(body, 'id', 256)
          const secret = optionalString(body, 'secret', 1024)
          const result = id && secret ? await auth.login(id, secret) : undefined
          token = result?.token
          expires = result?.expires
        }
        const identity = token === undefined ? undefined : await auth.verify(token)
        if (token === undefined || !identity) {
          throttle.failed(address)
          // One answer for every failure: which part was wrong is not said.
          throw unauthorized(DASHBOARD_ID, 'those credentials are not valid')
        }
        throttle.succeeded(address)
        sendJson(ctx.res, { identity }, 200, { 'set-cookie': tokenCookie(ctx.req, token, expires) })
        return HANDLED
      },
    },
    {
      method: 'POST',
      path: '/logout',
      public: true,
      handler(ctx) {
        sendJson(ctx.res, { loggedOut: true }, 200, { 'set-cookie': tokenCookie(ctx.req, undefined) })
        return HANDLED
      },
    },
  ]
}
