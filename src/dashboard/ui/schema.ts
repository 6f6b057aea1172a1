// Reading JSON Schemas for the API explorer's form (what zod, valibot and arktype emit).

export type Schema = Record<string, unknown>

/** The schema's main type: `object`, `array`, `string`, `number`, `integer`, `boolean`, or `unknown`. */
export function typeOf(schema: Schema | undefined): string {
  if (!schema) return 'unknown'
  if (Array.isArray(schema.enum)) return 'enum'
  if ('const' in schema) return 'const'
  const type = schema.type
  if (typeof type === 'string') return type
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') as string | undefined) ?? 'unknown'
  const variants = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (Array.isArray(variants)) {
    const real = variants.filter((v) => v.type !== 'null')
    if (real.length === 1) return typeOf(real[0])
  }
  if (schema.properties) return 'object'
  return 'unknown'
}

/** The schema without a `null` alternative (`anyOf: [X, {type: null}]` is X). */
export function unwrap(schema: Schema | undefined): Schema | undefined {
  const variants = (schema?.anyOf ?? schema?.oneOf) as Schema[] | undefined
  if (Array.isArray(variants)) {
    const real = variants.filter((v) => v.type !== 'null')
    if (real.length === 1) return { ...real[0], description: schema?.description ?? real[0]?.description }
  }
  return schema
}

export function propertiesOf(schema: Schema | undefined): [string, Schema][] {
  const props = unwrap(schema)?.properties
  return props && typeof props === 'object' ? Object.entries(props as Record<string, Schema>) : []
}

export function requiredOf(schema: Schema | undefined): Set<string> {
  const required = unwrap(schema)?.required
  return new Set(Array.isArray(required) ? (required as string[]) : [])
}

/** A starting value: the schema's default, else an empty value of its type (required fields only). */
export function initialValue(schema: Schema | undefined): unknown {
  const s = unwrap(schema)
  if (!s) return {}
  if ('default' in s) return s.default
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {}
      const required = requiredOf(s)
      for (const [name, child] of propertiesOf(s)) if (required.has(name)) out[name] = initialValue(child)
      return out
    }
    case 'array':
      return []
    case 'string':
      return ''
    case 'number':
    case 'integer':
      return 0
    case 'boolean':
      return false
    case 'enum':
      return (s.enum as unknown[])[0]
    case 'const':
      return s.const
    default:
      return null
  }
}

/** Problems with a value against the schema's basics (required, types, enums), as `path: message`. */
export function check(schema: Schema | undefined, value: unknown, path = ''): string[] {
  const s = unwrap(schema)
  if (!s) return []
  const at = path || 'the request'
  switch (typeOf(s)) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: must be an object`]
      const v = value as Record<string, unknown>
      const out: string[] = []
      for (const name of requiredOf(s))
        if (v[name] === undefined) out.push(`${path ? `${path}.` : ''}${name}: required`)
      for (const [name, child] of propertiesOf(s))
        if (v[name] !== undefined) out.push(...check(child, v[name], path ? `${path}.${name}` : name))
      return out
    }
    case 'array':
      if (!Array.isArray(value)) return [`${at}: must be a list`]
      return value.flatMap((item, i) => check(s.items as Schema | undefined, item, `${path}[${i}]`))
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: must be text`]
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: must be a whole number`]
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: must be a number`]
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: must be true or false`]
    case 'enum':
      return (s.enum as unknown[]).includes(value)
        ? []
        : [`${at}: must be one of ${(s.enum as unknown[]).join(', ')}`]
    default:
      return []
  }
}
