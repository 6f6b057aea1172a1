/** A service endpoint an HTTP path resolved to. */
export interface Route {
  service: string
  /** `Handler.Method` */
  endpoint: string
}

/** A path segment of the Micro v3 rules: letters and digits, `-` or `_` inside. */
const SEGMENT = /^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$/
/** A service name in the dotted form: may contain dots (`foo.bar`). */
const SERVICE = /^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$/
const ENDPOINT = /^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/
const VERSION = /^v[0-9]+$/

/**
 * Resolve the part of a path after `/api/` to a service and endpoint, or undefined when no
 * rule applies. The dotted form comes first: `greeter/Greeter.Hello` is service `greeter`,
 * endpoint `Greeter.Hello` as written. Otherwise Micro v3's rules, with each endpoint
 * segment CamelCased on `-` (`say-hello` is `SayHello`):
 *
 * - `foo` is `foo` `Foo.Call`
 * - `foo/bar` is `foo` `Foo.Bar`
 * - `v1/foo/bar` is `v1.foo` `Foo.Bar` (three parts with a leading version)
 * - `a/b/.../x/y` is `a.b...` `X.Y` (the last two parts are the endpoint)
 *
 * Empty segments are ignored (`//`), as Micro v3 cleans the path; `.`, `..`, percent-escapes
 * and other characters match no rule.
 */
export function resolveApiPath(path: string): Route | undefined {
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.length === 0) return undefined
  if (parts.length === 2 && (parts[1] as string).includes('.')) {
    const [service, endpoint] = parts as [string, string]
    return SERVICE.test(service) && ENDPOINT.test(endpoint) ? { service, endpoint } : undefined
  }
  if (!parts.every((p) => SEGMENT.test(p))) return undefined
  if (parts.length === 1) {
    const service = parts[0] as string
    return { service, endpoint: `${camel(service)}.Call` }
  }
  if (parts.length === 2) {
    const [service, method] = parts as [string, string]
    return { service, endpoint: `${camel(service)}.${camel(method)}` }
  }
  if (parts.length === 3 && VERSION.test(parts[0] as string)) {
    const [version, name, method] = parts as [string, string, string]
    return { service: `${version}.${name}`, endpoint: `${camel(name)}.${camel(method)}` }
  }
  const n = parts.length
  return {
    service: parts.slice(0, n - 2).join('.'),
    endpoint: `${camel(parts[n - 2] as string)}.${camel(parts[n - 1] as string)}`,
  }
}

/** `say-hello` is `SayHello`: each `-`-separated word gets an upper-case first letter. */
function camel(segment: string): string {
  let out = ''
  for (const word of segment.split('-')) out += word.charAt(0).toUpperCase() + word.slice(1)
  return out
}

/**
 * Resolved routes by path, so a path is parsed once. Bounded: past `max` entries the
 * oldest is dropped, so a client spraying random paths costs memory only up to the bound.
 * Paths that match no rule are remembered too (as null).
 */
export class RouteCache {
  readonly #routes = new Map<string, Route | null>()
  readonly #max: number

  constructor(max = 4096) {
    this.#max = max
  }

  /**
   * The route of `path`, or undefined when none applies. `skip` characters of the path (the
   * `/api/` prefix) are not part of the rules; the cache keys on the whole path so a lookup
   * allocates nothing.
   */
  get(path: string, skip = 0): Route | undefined {
    let route = this.#routes.get(path)
    if (route === undefined) {
      route = resolveApiPath(skip === 0 ? path : path.slice(skip)) ?? null
      if (this.#routes.size >= this.#max) this.#routes.delete(this.#routes.keys().next().value as string)
      this.#routes.set(path, route)
    }
    return route ?? undefined
  }

  get size(): number {
    return this.#routes.size
  }
}
