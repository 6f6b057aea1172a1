import { createHash } from 'node:crypto'

/**
 * Tool names agents accept everywhere: `[A-Za-z0-9_-]`, at most 64 characters. MCP itself
 * allows dots and 128 characters, but some model providers refuse tool names outside this
 * narrower set, so we stay inside it.
 */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/
export const MAX_TOOL_NAME = 64

/** One endpoint to name: the service and its `Handler.Method`. */
export interface NamedEndpoint {
  service: string
  endpoint: string
}

/** Characters outside `[A-Za-z0-9_-]` become `_`. */
function clean(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_')
}

/** Eight hex characters of SHA-256 of the endpoint's full identity: stable across runs and machines. */
function digest(entry: NamedEndpoint): string {
  return createHash('sha256').update(`${entry.service}\0${entry.endpoint}`).digest('hex').slice(0, 8)
}

/** `base` cut to leave room for `_<hash>`, then the hash. */
function withDigest(base: string, entry: NamedEndpoint): string {
  return `${base.slice(0, MAX_TOOL_NAME - 9)}_${digest(entry)}`
}

/**
 * The plain tool name of an endpoint: `<service>_<Handler>_<Method>` (`greeter` `Greeter.Hello`
 * is `greeter_Greeter_Hello`; `go.micro.srv.users` `Users.Get` is
 * `go_micro_srv_users_Users_Get`), every character outside `[A-Za-z0-9_-]` replaced by `_`.
 * A name longer than 64 characters keeps its first 55 and ends in `_` and 8 hex characters of
 * SHA-256 of `service\0endpoint`.
 */
export function plainToolName(entry: NamedEndpoint): string {
  const base = clean(`${entry.service}_${entry.endpoint}`)
  return base.length <= MAX_TOOL_NAME ? base : withDigest(base, entry)
}

/**
 * Names for a set of endpoints, unique and the same for the same set whatever order it comes
 * in. When several endpoints have the same plain name (`a.b` and `a_b`, or `_` inside names),
 * the one first in code point order of `service\0endpoint` keeps it and each other gets
 * `_<8 hex>` of its own identity. Names in `reserved` (built-in tools) are never given out:
 * an endpoint whose plain name is one gets the suffix too. Keys of the map are
 * `service\0endpoint`.
 */
export function assignToolNames(
  entries: readonly NamedEndpoint[],
  reserved: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const sorted = [...entries].sort((a, b) => compare(key(a), key(b)))
  const names = new Map<string, string>()
  const taken = new Set(reserved)
  const deferred: NamedEndpoint[] = []
  for (const entry of sorted) {
    const name = plainToolName(entry)
    if (taken.has(name)) deferred.push(entry)
    else {
      taken.add(name)
      names.set(key(entry), name)
    }
  }
  for (const entry of deferred) {
    const hashed = withDigest(plainToolName(entry), entry)
    let name = hashed
    // A clash of digests as well (astronomically rare) still ends unique and deterministic.
    for (let n = 2; taken.has(name); n++) name = `${hashed.slice(0, MAX_TOOL_NAME - 4)}_${n}`
    taken.add(name)
    names.set(key(entry), name)
  }
  return names
}

/** The map key of an endpoint in {@link assignToolNames}'s answer. */
export function key(entry: NamedEndpoint): string {
  return `${entry.service}\0${entry.endpoint}`
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
