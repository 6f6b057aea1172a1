import type { JsonSchema } from '../../registry/registry.js'

/** How a flag's text becomes a JSON value. `any`: JSON when it parses, else the text. */
export type ScalarKind = 'string' | 'number' | 'integer' | 'boolean' | 'any'

/** What a field holds: a scalar, an array of scalars, an object, or a map with typed values. */
export type FieldKind = ScalarKind | 'array' | 'object' | 'map'

/** One `--flag` of a dynamic command, from a property of the endpoint's request schema. */
export interface Field {
  /** The flag name without dashes: the property path joined by dots, e.g. `address.city`. */
  flag: string
  path: string[]
  kind: FieldKind
  /** Arrays: each item's kind. Maps: each value's kind. */
  items?: ScalarKind
  /** Required in the request: the field and every object above it are required. */
  required: boolean
  /** Required once its parent object is given (`address.city` of an optional `address`). */
  requiredInParent?: boolean
  description?: string
  /** Allowed values, when the schema lists them. */
  choices?: readonly unknown[]
  default?: unknown
}

/** How deep nested objects become dotted flags; deeper ones are given as JSON. */
const MAX_DEPTH = 6

/**
 * The flags of a request schema: every property, and every property of a nested object as
 * a dotted flag (`address.city`); an object property is also a flag taking JSON. `$ref`s
 * into `$defs`/`definitions` are followed (a recursive one stops as a JSON flag);
 * `anyOf`/`oneOf` with `null` (nullable) count as their other branch.
 */
export function fieldsOf(schema: JsonSchema | undefined): Field[] {
  if (!schema) return []
  const fields: Field[] = []
  collect(schema, schema, [], true, fields, new Set())
  return fields
}

function collect(
  root: JsonSchema,
  schema: JsonSchema,
  path: string[],
  required: boolean,
  out: Field[],
  refsAbove: ReadonlySet<string>,
): void {
  const followed: string[] = []
  const resolved = resolve(root, schema, followed)
  // A $ref already being expanded above is a recursive type: that field takes JSON.
  if (!resolved || followed.some((ref) => refsAbove.has(ref))) {
    if (path.length > 0) out.push(field(path, 'any', required, schema))
    return
  }
  const kind = kindOf(resolved)
  if (path.length > 0) {
    const entry = field(path, kind, required, resolved)
    if (kind === 'array') entry.items = scalarOf(root, itemsOf(resolved))
    if (kind === 'map') entry.items = scalarOf(root, resolved.additionalProperties as JsonSchema)
    out.push(entry)
  }
  const properties = resolved.properties as Record<string, JsonSchema> | undefined
  if (kind !== 'object' || !properties || path.length >= MAX_DEPTH) return
  const requiredNames = new Set(Array.isArray(resolved.required) ? (resolved.required as string[]) : [])
  const inner = new Set([...refsAbove, ...followed])
  for (const [name, property] of Object.entries(properties)) {
    const before = out.length
    collect(root, property, [...path, name], required && requiredNames.has(name), out, inner)
    const entry = out[before]
    if (entry && !entry.required && requiredNames.has(name) && path.length > 0) entry.requiredInParent = true
  }
}

function field(path: string[], kind: FieldKind, required: boolean, schema: JsonSchema): Field {
  const entry: Field = { flag: path.join('.'), path, kind, required }
  if (typeof schema.description === 'string') entry.description = schema.description
  if (Array.isArray(schema.enum)) entry.choices = schema.enum
  else if ('const' in schema) entry.choices = [schema.const]
  if ('default' in schema) entry.default = schema.default
  return entry
}

/**
 * The schema itself with `$ref`, nullable `anyOf`/`oneOf` and single `allOf` unwrapped
 * (the refs followed are pushed on `followed`); undefined for a `$ref` that cannot be
 * followed.
 */
function resolve(
  root: JsonSchema,
  schema: JsonSchema,
  followed: string[] = [],
  hops = 0,
): JsonSchema | undefined {
  if (!schema || typeof schema !== 'object' || hops > 16) return undefined
  if (typeof schema.$ref === 'string') {
    const target = pointer(root, schema.$ref)
    followed.push(schema.$ref)
    return target ? resolve(root, { ...target, ...withoutRef(schema) }, followed, hops + 1) : undefined
  }
  const union = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined
  if (Array.isArray(union)) {
    const branches = union.filter((branch) => !isNull(branch))
    if (branches.length === 1) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema
      return resolve(root, { ...(branches[0] as JsonSchema), ...rest }, followed, hops + 1)
    }
  }
  const all = schema.allOf as JsonSchema[] | undefined
  if (Array.isArray(all) && all.length === 1) {
    const { allOf: _all, ...rest } = schema
    return resolve(root, { ...(all[0] as JsonSchema), ...rest }, followed, hops + 1)
  }
  return schema
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const { $ref: _ref, ...rest } = schema
  return rest
}

/** `#/$defs/Name` (or any local JSON pointer) inside the root schema. */
function pointer(root: JsonSchema, ref: string): JsonSchema | undefined {
  if (ref === '#') return root
  if (!ref.startsWith('#/')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    if (!node || typeof node !== 'object') return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node && typeof node === 'object' ? (node as JsonSchema) : undefined
}

function isNull(schema: JsonSchema): boolean {
  return (
    schema?.type === 'null' ||
    (Array.isArray(schema?.enum) && schema.enum.length === 1 && schema.enum[0] === null)
  )
}

function kindOf(schema: JsonSchema): FieldKind {
  const type = typeOf(schema)
  if (type === 'object') {
    const properties = schema.properties as Record<string, unknown> | undefined
    const extra = schema.additionalProperties
    if ((!properties || Object.keys(properties).length === 0) && extra && typeof extra === 'object')
      return 'map'
    return 'object'
  }
  if (type === 'array') return 'array'
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return type
  return 'any'
}

/** The single non-null type a schema declares or implies, if any. */
function typeOf(schema: JsonSchema): string | undefined {
  const declared = schema.type
  if (typeof declared === 'string') return declared
  if (Array.isArray(declared)) {
    const types = declared.filter((t) => t !== 'null')
    return types.length === 1 ? (types[0] as string) : undefined
  }
  if (schema.properties && typeof schema.properties === 'object') return 'object'
  const values = Array.isArray(schema.enum) ? schema.enum : 'const' in schema ? [schema.const] : undefined
  if (values && values.length > 0) {
    const kinds = new Set(values.map((v) => typeof v))
    if (kinds.size === 1) {
      const only = [...kinds][0]
      if (only === 'string' || only === 'number' || only === 'boolean') return only
    }
  }
  return undefined
}

function itemsOf(schema: JsonSchema): JsonSchema | undefined {
  const items = schema.items
  return items && typeof items === 'object' && !Array.isArray(items) ? (items as JsonSchema) : undefined
}

/** The scalar kind of an array item or map value; anything else is taken as JSON. */
function scalarOf(root: JsonSchema, schema: JsonSchema | undefined): ScalarKind {
  const resolved = schema ? resolve(root, schema) : undefined
  const kind = resolved ? kindOf(resolved) : 'any'
  return kind === 'string' || kind === 'number' || kind === 'integer' || kind === 'boolean' ? kind : 'any'
}

/** A field's type as help shows it: `string`, `integer`, `string[]`, `map<string>`, `object`, `json`. */
export function typeLabel(field: Field): string {
  const scalar = (kind: ScalarKind | undefined) => (kind === undefined || kind === 'any' ? 'json' : kind)
  if (field.kind === 'array') return `${scalar(field.items)}[]`
  if (field.kind === 'map') return `map<${scalar(field.items)}>`
  if (field.kind === 'object') return 'object'
  return scalar(field.kind)
}
