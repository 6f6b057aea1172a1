import type { GatewayAuthorizer } from '../../auth/gateway.js'
import type { RegistryCache } from '../../registry/cache.js'
import type { ServiceRecord } from '../../registry/registry.js'
import type { Authorize } from '../gateway/options.js'

/** The scopes an endpoint declares, from the registry (endpoint metadata `scopes`, comma-separated). */
export type ScopesOf = (
  service: string,
  endpoint: string,
  namespace: string,
) => Promise<readonly string[] | undefined>

/**
 * Endpoint scopes from a registry cache: every version's declaration of the endpoint,
 * together. A service that is not registered declares nothing (the call then fails with
 * its own 404 after auth).
 */
export function registryScopes(cache: RegistryCache): ScopesOf {
  // The cache hands out the same frozen array until a service changes: scopes are read
  // from each array once per endpoint, not per request.
  const seen = new WeakMap<readonly ServiceRecord[], Map<string, string[] | undefined>>()
  const of = (records: readonly ServiceRecord[], endpoint: string) => {
    let byEndpoint = seen.get(records)
    if (byEndpoint === undefined) {
      byEndpoint = new Map()
      seen.set(records, byEndpoint)
    }
    if (byEndpoint.has(endpoint)) return byEndpoint.get(endpoint)
    const scopes = scopesIn(records, endpoint)
    // Bounded by the endpoints a service registers (names not registered are 404s anyway).
    if (byEndpoint.size < 1024) byEndpoint.set(endpoint, scopes)
    return scopes
  }
  return async (service, endpoint, namespace) => {
    const cached = cache.peek(service, namespace)
    if (cached !== undefined) return of(cached, endpoint)
    try {
      return of(await cache.getService(service, namespace), endpoint)
    } catch {
      return undefined
    }
  }
}

function scopesIn(records: readonly ServiceRecord[], endpoint: string): string[] | undefined {
  let scopes: Set<string> | undefined
  for (const record of records) {
    const declared = record.endpoints.find((e) => e.name === endpoint)?.metadata?.scopes
    if (!declared) continue
    scopes ??= new Set()
    for (const scope of declared.split(',')) if (scope.trim() !== '') scopes.add(scope.trim())
  }
  return scopes === undefined ? undefined : [...scopes]
}

/**
 * The gateway's auth hook over the platform's authorizer. The request's namespace is the
 * one it names (`Micro-Namespace`), else its token's (the issuer), else `defaultNamespace`;
 * that namespace's rules apply to `service:<service>:<endpoint>` (so a token of another
 * namespace is refused with a 403, a `micro` admin's is not: the rules' namespace check,
 * as on the platform port), then, only for a caller the rules let in, the endpoint's
 * declared scopes (so a refused caller costs no registry lookup and learns nothing about
 * which services exist). The bearer is forwarded to the service.
 */
export function gatewayAuthorize(
  authorizer: GatewayAuthorizer,
  scopesOf: ScopesOf,
  defaultNamespace: string,
): Authorize {
  return async (req, route, named) => {
    const target = { service: route.service, endpoint: route.endpoint, namespace: named, defaultNamespace }
    let decision = await authorizer.authorize(req, target)
    if (decision.ok) {
      const { namespace } = decision
      const scopes = await scopesOf(route.service, route.endpoint, namespace)
      if (scopes !== undefined && scopes.length > 0)
        decision = await authorizer.authorize(req, { ...target, namespace, scopes })
    }
    if (!decision.ok) {
      return { allow: false, code: decision.error.code === 403 ? 403 : 401, detail: decision.error.detail }
    }
    return { allow: true, metadata: decision.metadata, namespace: decision.namespace }
  }
}
