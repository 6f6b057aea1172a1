/** Nesting printed before a type is given up as `unknown` (published schemas are untrusted). */
const MAX_DEPTH = 32
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** How `$ref`s print: the TypeScript name of a component, if it is one. */
export type RefNamer = (ref: string) => string | undefined

/**
 * A TypeScript type for the JSON Schema subset zod, valibot and arktype emit: objects
 * (required and optional properties, index signatures), arrays and tuples, enums and
 * consts, unions (`anyOf`, `oneOf`, `type` lists), intersections (`allOf`), nullables and
 * refs. Anything else is `unknown`, never a wrong type. Descriptions become JSDoc.
 */
export function tsType(schema: unknown, refs: RefNamer, indent = '', depth = 0): string {
  if (schema === true || schema === undefined) return 'unknown'
  if (schema === false) return 'never'
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema) || depth > MAX_DEPTH)
    return 'unknown'
  const s = schema as Record<string, unknown>
  const next = (sub: unknown, at = indent) => tsType(sub, refs, at, depth + 1)
  let type: string
  if (typeof s.$ref === 'string') {
    type = refs(s.$ref) ?? 'unknown'
  } else if ('const' in s) {
    type = literal(s.const)
  } else if (Array.isArray(s.enum)) {
    type = s.enum.length > 0 ? union(s.enum.map(literal)) : 'never'
  } else if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    type = union(((s.anyOf ?? s.oneOf) as unknown[]).map((m) => next(m)))
  } else if (Array.isArray(s.allOf)) {
    type = s.allOf.length > 0 ? s.allOf.map((m) => wrap(next(m))).join(' & ') : 'unknown'
  } else if (Array.isArray(s.type)) {
    type = union(s.type.map((t) => next({ ...s, type: t, description: undefined })))
  } else {
    type = byType(s, indent, next)
  }
  if (s.nullable === true && type !== 'unknown') type = union([type, 'null'])
  return type
}

function byType(
  s: Record<string, unknown>,
  indent: string,
  next: (sub: unknown, at?: string) => string,
): string {
  const kind = s.type ?? (s.properties ? 'object' : s.items || s.prefixItems ? 'array' : undefined)
  switch (kind) {
    case 'string':
      return 'string'
    case 'number':
    case 'integer':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array': {
      if (Array.isArray(s.prefixItems)) {
        const items = s.prefixItems.map((i) => next(i))
        if (s.items !== false && s.items !== undefined) items.push(`...${wrap(next(s.items))}[]`)
        return `[${items.join(', ')}]`
      }
      return `${wrap(next(s.items))}[]`
    }
    case 'object':
      return objectType(s, indent, next)
    default:
      return 'unknown'
  }
}

function objectType(
  s: Record<string, unknown>,
  indent: string,
  next: (sub: unknown, at?: string) => string,
): string {
  const properties = isRecord(s.properties) ? s.properties : {}
  const required = new Set(Array.isArray(s.required) ? s.required.filter((r) => typeof r === 'string') : [])
  const inner = `${indent}  `
  const lines: string[] = []
  for (const [key, sub] of Object.entries(properties)) {
    const doc = isRecord(sub) && typeof sub.description === 'string' ? jsdoc(sub.description, inner) : ''
    lines.push(`${doc}${inner}${propertyKey(key)}${required.has(key) ? '' : '?'}: ${next(sub, inner)}`)
  }
  const extra = s.additionalProperties
  const open = extra !== undefined && extra !== false
  if (open || isRecord(s.patternProperties)) {
    // Every property must fit an index signature: with named ones it can only be `unknown`.
    const value = lines.length === 0 && isRecord(extra) ? next(extra, inner) : 'unknown'
    if (lines.length === 0) return `Record<string, ${value}>`
    lines.push(`${inner}[key: string]: unknown`)
  }
  if (lines.length === 0) return s.type === 'object' ? 'Record<string, unknown>' : 'unknown'
  return `{\n${lines.join('\n')}\n${indent}}`
}

/** A `/** ... *\/` block; the text cannot end it early. */
export function jsdoc(text: string, indent: string): string {
  const safe = text.replace(/\*\//g, '*\\/').replace(/\r\n?/g, '\n').trim()
  if (safe === '') return ''
  const lines = safe.split('\n')
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`
}

/** A property name as it may be written in a type: bare when it is an identifier, else quoted. */
export function propertyKey(key: string): string {
  return IDENTIFIER.test(key) ? key : JSON.stringify(key)
}

function literal(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return 'unknown'
}

function union(types: string[]): string {
  const unique = [...new Set(types)]
  if (unique.includes('unknown')) return 'unknown'
  return unique.length === 0 ? 'never' : unique.map((t) => (unique.length > 1 ? wrap(t) : t)).join(' | ')
}

/** Parenthesised when it is a union or intersection at its top level, so `[]` and `&` bind right. */
function wrap(type: string): string {
  let depth = 0
  let quoted = false
  for (let i = 0; i < type.length; i++) {
    const c = type[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') quoted = true
    else if (c === '{' || c === '[' || c === '(' || c === '<') depth++
    else if (c === '}' || c === ']' || c === ')' || c === '>') depth--
    else if (depth === 0 && (c === '|' || c === '&')) return `(${type})`
  }
  return type
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
