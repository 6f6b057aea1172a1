import type { Source } from './source.js'
import { type ConfigObject, getAt, setAt } from './tree.js'

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Config from command-line flags: `--db-url=x`, `--db.url x` and `--db_url x` all set
 * `db.url = "x"` (names lower-cased, split on `-`, `_` and `.`). A flag followed by another
 * flag or by nothing is `"true"`. A repeated flag gives a list. Values stay strings, as
 * with environment variables. Single-dash options, positionals and everything after `--`
 * are ignored. `argv` defaults to `process.argv.slice(2)`.
 */
export function flagsSource(argv: readonly string[] = process.argv.slice(2)): Source {
  const args = [...argv]
  return {
    name: 'flags',
    read() {
      const tree: ConfigObject = {}
      for (let i = 0; i < args.length; i++) {
        const arg = args[i] as string
        if (arg === '--') break
        if (!arg.startsWith('--')) continue
        const eq = arg.indexOf('=')
        const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
        let value: string
        if (eq !== -1) value = arg.slice(eq + 1)
        else if (i + 1 < args.length && !(args[i + 1] as string).startsWith('--')) value = args[++i] as string
        else value = 'true'
        const parts = name
          .toLowerCase()
          .split(/[-_.]/)
          .filter((p) => p !== '')
        if (parts.length === 0 || parts.some((p) => UNSAFE.has(p))) continue
        const previous = getAt(tree, parts)
        const next = Array.isArray(previous)
          ? [...previous, value]
          : typeof previous === 'string'
            ? [previous, value]
            : value
        setAt(tree, parts, next)
      }
      return tree
    },
  }
}
