import type { IncomingMessage, ServerResponse } from 'node:http'
import { badRequest, forbidden } from '../../errors/errors.js'
import { ANY_NAMESPACE, NAMESPACE_NAME } from '../../registry/registry.js'
import type { DashboardSources } from '../sources.js'
import { DASHBOARD_ID, objectBody, readJson } from './http.js'
import type { Identity } from './types.js'

/** Returned by a route that wrote its own response (an SSE stream). */
export const HANDLED = Symbol('handled')

/** What a route handler gets. */
export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  query: URLSearchParams
  /** The namespace the request names (`?namespace=`, or the body's), checked. */
  namespace: string
  /** Who is calling; undefined when auth is off. */
  identity: Identity | undefined
  /** Whether auth is on. */
  authEnabled: boolean
  sources: DashboardSources
  /** The request body as a JSON object (415 without a JSON content type, 413 when too big). */
  body(): Promise<Record<string, unknown>>
}

/** One route. `mutates` routes are refused in read-only mode and checked for cross-site use. */
export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** `/services/:name`; relative to `/dashboard/api`. */
  path: string
  mutates?: boolean
  /** Needs an admin identity when auth is on. */
  admin?: boolean
  /** Answers without a login (info, login). */
  public?: boolean
  handler(ctx: RouteContext): Promise<unknown> | unknown
}

/** The namespace a request names (or `*`, every namespace), or a 400. */
export function checkNamespace(value: string): string {
  if (value !== ANY_NAMESPACE && !NAMESPACE_NAME.test(value))
    throw badRequest(DASHBOARD_ID, 'bad namespace: use letters, digits, _ and - (at most 64)')
  return value
}

/** A matched route with its path parameters, or `405`/`404` information. */
export interface Match {
  route: Route
  params: Record<string, string>
}

/** A small table of routes matched segment by segment. */
export class Router {
  readonly #routes: { route: Route; segments: string[] }[] = []

  add(...routes: Route[]): this {
    for (const route of routes) this.#routes.push({ route, segments: route.path.split('/').filter(Boolean) })
    return this
  }

  /** The route for a method and path; `undefined` when none matches the path; `'method'` when only the method is wrong. */
  match(method: string, path: string): Match | 'method' | undefined {
    const parts = path.split('/').filter(Boolean)
    let pathMatched = false
    for (const { route, segments } of this.#routes) {
      const params = matchSegments(segments, parts)
      if (!params) continue
      pathMatched = true
      if (route.method === method) return { route, params }
    }
    return pathMatched ? 'method' : undefined
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  if (segments.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string
    const part = parts[i] as string
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(part)
      } catch {
        throw badRequest(DASHBOARD_ID, 'bad escape in the path')
      }
    } else if (segment !== part) return undefined
  }
  return params
}

/** A lazily read, cached JSON object body. */
export function bodyReader(req: IncomingMessage, limit: number): () => Promise<Record<string, unknown>> {
  let body: Promise<Record<string, unknown>> | undefined
  return () => {
    body ??= readJson(req, limit).then(objectBody)
    return body
  }
}

/** The 403 of a change in read-only mode. */
export function readOnlyError(): Error {
  return forbidden(DASHBOARD_ID, 'the dashboard is read-only')
}
