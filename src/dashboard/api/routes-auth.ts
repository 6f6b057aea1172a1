import { badRequest, serviceUnavailable } from '../../errors/errors.js'
import type { AuthSource } from '../sources.js'
import { DASHBOARD_ID, intParam, optionalString, stringField } from './http.js'
import type { Route, RouteContext } from './router.js'

function auth(ctx: RouteContext): AuthSource {
  if (!ctx.sources.auth) throw serviceUnavailable(DASHBOARD_ID, 'auth is not configured')
  return ctx.sources.auth
}

function scopesField(value: unknown): string[] {
  if (value === undefined || value === null) return []
  const list = typeof value === 'string' ? value.split(/[\s,]+/) : value
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string' || s.length > 256))
    throw badRequest(DASHBOARD_ID, 'scopes must be a list of strings')
  return (list as string[]).filter(Boolean).slice(0, 64)
}

/** Accounts, tokens (issue, revoke), rules and the policy check. */
export function authRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/auth/accounts',
      handler: async (ctx) => ({ accounts: await auth(ctx).accounts(ctx.namespace) }),
    },
    {
      method: 'GET',
      path: '/auth/tokens',
      handler: async (ctx) => ({ tokens: await auth(ctx).tokens(ctx.namespace) }),
    },
    {
      method: 'POST',
      path: '/auth/tokens',
      mutates: true,
      admin: true,
      async handler(ctx) {
        const body = await ctx.body()
        const scopes = scopesField(body.scopes)
        const request: { account: string; scopes: string[]; ttl?: number; description?: string } = {
          account: stringField(body, 'account', 256),
          scopes,
        }
        if (body.ttl !== undefined) request.ttl = intParam(body.ttl, 'ttl', 0, 10 * 365 * 86_400_000, 1)
        const description = optionalString(body, 'description', 512)
        if (description) request.description = description
        // The token text is in this answer only: the dashboard keeps no copy.
        return auth(ctx).issueToken(ctx.namespace, request)
      },
    },
    {
      method: 'DELETE',
      path: '/auth/tokens/:id',
      mutates: true,
      admin: true,
      async handler(ctx) {
        await auth(ctx).revokeToken(ctx.namespace, ctx.params.id as string)
        return { revoked: ctx.params.id }
      },
    },
    {
      method: 'GET',
      path: '/auth/rules',
      handler: async (ctx) => ({ rules: await auth(ctx).rules(ctx.namespace) }),
    },
    {
      method: 'POST',
      path: '/auth/check',
      async handler(ctx) {
        const body = await ctx.body()
        return auth(ctx).check(ctx.namespace, {
          account: stringField(body, 'account', 256),
          service: stringField(body, 'service', 256),
          endpoint: stringField(body, 'endpoint', 256),
        })
      },
    },
  ]
}
