import { UsageError } from '../args.js'
import type { Field, ScalarKind } from './fields.js'
import { closest } from './words.js'

/** A request body built from flags. */
export type Request = Record<string, unknown>

/**
 * Build a request from `--flag value` / `--flag=value` tokens, typed by the endpoint's
 * fields: numbers and integers are checked, booleans take `--flag` alone or `=true|false`,
 * arrays take repeated flags or comma lists (or a JSON array), objects and maps take JSON
 * or dotted flags (`--address.city=X`, `--labels.env=prod`). Without fields (the endpoint
 * publishes no schema) any flag is accepted and its value taken as JSON when it parses.
 * A flag the schema does not know is a usage error listing the known ones.
 */
export function requestFromFlags(
  tokens: readonly string[],
  fields: readonly Field[] | undefined,
  base: Request = {},
): Request {
  const request: Request = structuredClone(base)
  const byFlag = new Map((fields ?? []).map((f) => [f.flag, f]))
  const schemaless = fields === undefined
  // Array flags given several times append; the first occurrence replaces what `base` had.
  const appended = new Set<string>()
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string
    if (!token.startsWith('--') || token === '--')
      throw new UsageError(
        `unexpected argument ${token}: endpoint words go right after the service name, flags after them`,
      )
    const eq = token.indexOf('=')
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq)
    const { field, key } = findField(name, byFlag, schemaless)
    let text: string | undefined = eq < 0 ? undefined : token.slice(eq + 1)
    if (text === undefined) {
      const next = tokens[i + 1]
      const valueNext = next !== undefined && !next.startsWith('--')
      // A boolean, or a flag of an endpoint without a schema, stands alone as true.
      if (field.kind === 'boolean' || (schemaless && !valueNext)) text = 'true'
      else if (!valueNext) throw new UsageError(`--${name} needs a value`)
      else {
        text = next
        i++
      }
    }
    const path = key === undefined ? field.path : [...field.path, key]
    const kind = key === undefined ? field.kind : (field.items ?? 'any')
    if (kind === 'array') {
      const items = arrayOf(text, field, name)
      const current = getPath(request, path)
      const keep = appended.has(name) && Array.isArray(current) ? current : []
      setPath(request, path, [...keep, ...items], name)
      appended.add(name)
    } else if (kind === 'object' || kind === 'map') {
      const value = json(text, name)
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw new UsageError(`--${name} wants a JSON object (or dotted flags like --${name}.<field>)`)
      const current = getPath(request, path)
      const merged = current && typeof current === 'object' && !Array.isArray(current) ? current : {}
      setPath(request, path, { ...merged, ...(value as Request) }, name)
    } else {
      setPath(request, path, scalar(text, kind, name, key === undefined ? field.choices : undefined), name)
    }
  }
  return request
}

/** The field a flag names; `key` is the map key for `--labels.env` when `labels` is a map. */
function findField(
  name: string,
  byFlag: ReadonlyMap<string, Field>,
  schemaless: boolean,
): { field: Field; key?: string } {
  if (name === '' || name.split('.').some((part) => part === ''))
    throw new UsageError(`bad flag --${name}: names are field paths like --name or --address.city`)
  const exact = byFlag.get(name)
  if (exact) return { field: exact }
  const dot = name.lastIndexOf('.')
  const parent = dot < 0 ? undefined : byFlag.get(name.slice(0, dot))
  if (parent?.kind === 'map') return { field: parent, key: name.slice(dot + 1) }
  if (schemaless) return { field: { flag: name, path: name.split('.'), kind: 'any', required: false } }
  const known = [...byFlag.keys()]
  const near = closest(name, known)
  throw new UsageError(
    `unknown flag --${name}${near.length > 0 ? ` (did you mean --${near.join(', --')}?)` : ''}; ` +
      `the endpoint's flags: ${known.length > 0 ? known.map((f) => `--${f}`).join(', ') : 'none'}`,
  )
}

function scalar(text: string, kind: ScalarKind, name: string, choices?: readonly unknown[]): unknown {
  let value: unknown
  switch (kind) {
    case 'string':
      value = text
      break
    case 'number':
    case 'integer': {
      const number = text.trim() === '' ? Number.NaN : Number(text)
      if (!Number.isFinite(number)) throw new UsageError(`--${name} wants a number, not ${show(text)}`)
      if (kind === 'integer' && !Number.isInteger(number))
        throw new UsageError(`--${name} wants a whole number, not ${show(text)}`)
      value = number
      break
    }
    case 'boolean': {
      const word = text.toLowerCase()
      if (['true', '1', 'yes'].includes(word)) value = true
      else if (['false', '0', 'no'].includes(word)) value = false
      else throw new UsageError(`--${name} is true or false, not ${show(text)}`)
      break
    }
    default:
      value = loose(text)
  }
  if (choices && !choices.some((choice) => choice === value))
    throw new UsageError(
      `--${name} is one of ${choices.map((c) => JSON.stringify(c)).join(', ')}; not ${show(text)}`,
    )
  return value
}

function arrayOf(text: string, field: Field, name: string): unknown[] {
  if (text.trimStart().startsWith('[')) {
    const value = json(text, name)
    if (!Array.isArray(value)) throw new UsageError(`--${name} wants a JSON array or a comma list`)
    return value
  }
  if (text === '') return []
  return text.split(',').map((item) => scalar(item, field.items ?? 'any', name))
}

function json(text: string, name: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON (${(error as Error).message}): ${show(text)}`)
  }
}

/** JSON when the text parses (numbers, true, objects), else the text itself. */
function loose(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text)
}

function getPath(request: Request, path: readonly string[]): unknown {
  let node: unknown = request
  for (const key of path) {
    if (!node || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key))
      return undefined
    node = (node as Request)[key]
  }
  return node
}

function setPath(request: Request, path: readonly string[], value: unknown, name: string): void {
  let node = request
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined
    if (next === undefined) define(node, key, {})
    else if (!next || typeof next !== 'object' || Array.isArray(next))
      throw new UsageError(`--${name}: ${key} is already set to a value that is not an object`)
    node = node[key] as Request
  }
  define(node, path[path.length - 1] as string, value)
}

/** Set an own property, so a key such as `__proto__` is data and never a prototype. */
function define(node: Request, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true })
}
