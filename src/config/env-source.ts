import type { Source } from './source.js'
import { type ConfigObject, setAt } from './tree.js'

/** Options of {@link env}. */
export interface EnvSourceOptions {
  /** Only variables starting with `<PREFIX>_` (case-insensitive); several prefixes may be given. */
  prefix?: string | readonly string[]
  /** Drop the prefix from the path (`SHOP_DB_URL` → `db.url`). Default true; false keeps `shop.db.url`. */
  stripPrefix?: boolean
  /** The variables to read; default `process.env`. */
  env?: NodeJS.ProcessEnv
}

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Config from environment variables: `A_B_C=x` becomes `a.b.c = "x"` (lower-cased, split on
 * `_`). Values stay strings; the typed getters convert them. When both `A_B` and `A_B_C`
 * are set the nested one wins, since `a.b` cannot be both a value and an object. The
 * environment is read on every `read()`; it is not watched.
 */
export function envSource(options: EnvSourceOptions = {}): Source {
  const prefixes = (typeof options.prefix === 'string' ? [options.prefix] : (options.prefix ?? [])).map((p) =>
    (p.endsWith('_') ? p : `${p}_`).toUpperCase(),
  )
  const strip = options.stripPrefix ?? true
  return {
    name: prefixes.length > 0 ? `env:${prefixes.map((p) => p.slice(0, -1)).join(',')}` : 'env',
    read() {
      const entries: Array<[string[], string]> = []
      for (const [name, value] of Object.entries(options.env ?? process.env)) {
        if (value === undefined) continue
        const prefix = prefixes.find((p) => name.toUpperCase().startsWith(p))
        if (prefixes.length > 0 && prefix === undefined) continue
        const key = prefix !== undefined && strip ? name.slice(prefix.length) : name
        const parts = key
          .toLowerCase()
          .split('_')
          .filter((part) => part !== '')
        if (parts.length > 0 && !parts.some((part) => UNSAFE.has(part))) entries.push([parts, value])
      }
      // Shallow paths first, so a nested variable replaces a scalar parent rather than the reverse.
      entries.sort((a, b) => a[0].length - b[0].length)
      const tree: ConfigObject = {}
      for (const [parts, value] of entries) setAt(tree, parts, value)
      return tree
    },
  }
}
