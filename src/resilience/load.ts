import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { lazyRequire } from '../util/lazy-require.js'
import type { ResilienceSpec } from './policy.js'
import { Resilience, ResilienceConfigError } from './resilience.js'

// Parsers load on first use: every service imports this module, few load a policy file,
// and importing the CommonJS `yaml` from ESM alone cost each process ~8 MB of RSS.
const yaml = lazyRequire<typeof import('yaml')>('yaml')
const toml = lazyRequire<typeof import('smol-toml')>('smol-toml')

/**
 * Resilience policies from where a platform keeps them: a file (`.json`, `.yaml`/`.yml`,
 * `.toml`; the policies at the top level or under `resilience`), its text, or the parsed
 * object. Pass the result to every client the platform makes (gateway, sidecar, MCP:
 * `new Client({ resilience })`, `createService({ resilience })`) so they all apply the same
 * policies. Throws a ResilienceConfigError listing every problem.
 *
 * ```ts
 * const resilience = loadResiliencePolicies('/etc/micro/resilience.yaml')
 * ```
 */
export function loadResiliencePolicies(source: string | ResilienceSpec | Resilience): Resilience {
  if (source instanceof Resilience) return source
  if (typeof source !== 'string') return new Resilience(unwrap(source))
  const text = looksLikeContent(source) ? source : readFileSync(source, 'utf8')
  const format = looksLikeContent(source) ? guessFormat(text) : formatOf(source)
  let parsed: unknown
  try {
    parsed =
      format === 'json' ? JSON.parse(text) : format === 'toml' ? toml().parse(text) : yaml().parse(text)
  } catch (error) {
    const where = looksLikeContent(source) ? 'the resilience policies' : source
    throw new ResilienceConfigError([
      `${where} is not valid ${format.toUpperCase()}: ${(error as Error).message}`,
    ])
  }
  return new Resilience(unwrap(parsed))
}

/** `{ resilience: {...} }` (a whole service or platform config) or the policies themselves. */
function unwrap(value: unknown): ResilienceSpec {
  if (typeof value !== 'object' || value === null)
    throw new ResilienceConfigError(['the policies must be an object'])
  const inner = (value as { resilience?: unknown }).resilience
  return (typeof inner === 'object' && inner !== null ? inner : value) as ResilienceSpec
}

function looksLikeContent(source: string): boolean {
  return source.includes('\n') || /^\s*[{[]/.test(source)
}

function formatOf(path: string): 'json' | 'yaml' | 'toml' {
  const ext = extname(path).toLowerCase()
  if (ext === '.json') return 'json'
  if (ext === '.toml') return 'toml'
  return 'yaml'
}

function guessFormat(text: string): 'json' | 'yaml' | 'toml' {
  // A TOML table header (`[policies.timeouts]`) also starts with a bracket: look for it first.
  if (/^\s*\[[\w."*-]+\]\s*$/m.test(text)) return 'toml'
  if (/^\s*[{[]/.test(text)) return 'json'
  return 'yaml'
}
