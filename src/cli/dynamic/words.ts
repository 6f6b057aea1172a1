import type { EndpointRecord } from '../../registry/registry.js'

/** `say-hello` -> `SayHello`, `greeter` -> `Greeter` (Micro v3's Title, with `-` words joined). */
export function camel(word: string): string {
  return word
    .split(/[-_]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('')
}

/** `SayHello` -> `say-hello`, `GetHTTPStatus` -> `get-http-status`. */
export function kebab(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase()
}

/**
 * The words that call `endpoint` of `service` on the command line: `greeter hello` for
 * `Greeter.Hello` of `greeter` (the handler named like the service is left out, as Micro
 * v3 did), `greeter admin reset` for `Admin.Reset`.
 */
export function commandWords(service: string, endpoint: string): string[] {
  const dot = endpoint.indexOf('.')
  if (dot < 0) return [kebab(endpoint)]
  const handler = endpoint.slice(0, dot)
  const method = endpoint.slice(dot + 1)
  return same(handler, camel(service)) ? [kebab(method)] : [kebab(handler), kebab(method)]
}

/**
 * The endpoint `words` name, matched case-insensitively (Micro v3's mapping):
 * `[a]` is `Service.A`, or else the one endpoint whose method is `A`; `[a, b]` is `A.B`, or
 * else `Service.AB` (`greeter say hello` -> `Greeter.SayHello`). Undefined when none (or,
 * for a bare method, more than one) matches.
 */
export function endpointFor(
  service: string,
  words: readonly string[],
  endpoints: readonly EndpointRecord[],
): EndpointRecord | undefined {
  const find = (name: string) => endpoints.find((e) => same(e.name, name))
  const [first, second] = words.map(camel)
  if (first === undefined || words.length > 2) return undefined
  if (second === undefined) {
    const direct = find(`${camel(service)}.${first}`)
    if (direct) return direct
    const byMethod = endpoints.filter((e) => same(e.name.slice(e.name.indexOf('.') + 1), first))
    return byMethod.length === 1 ? byMethod[0] : undefined
  }
  return find(`${first}.${second}`) ?? find(`${camel(service)}.${first}${second}`)
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

/** The candidates close to `word` (edit distance within a third of its length, at least 2), closest first. */
export function closest(word: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3))
  return candidates
    .map((candidate) => ({ candidate, distance: distance(word.toLowerCase(), candidate.toLowerCase()) }))
    .filter((c) => c.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .map((c) => c.candidate)
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      )
    }
    previous = row
  }
  return previous[b.length] as number
}
