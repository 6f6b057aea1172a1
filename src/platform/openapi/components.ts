import type { JsonSchema } from '../../registry/registry.js'

/** Nesting kept of a published schema; deeper parts become `{}` (any value). */
const MAX_DEPTH = 64
const COMPONENT_NAME = /[^A-Za-z0-9._-]/g

/**
 * The `components.schemas` of a document, filled as schemas are added: each published
 * schema becomes one named component (identical ones share it), its `$defs` (or draft-07
 * `definitions`) are hoisted into components of their own, and every local `$ref` is
 * rewritten to point at them. A schema that refers to itself (`$ref: "#"`) points at its
 * own component. Refs that lead nowhere become `{}`, so the document stays valid.
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {}
  readonly #byContent = new Map<string, string>()

  /** Add a schema under a name like `name` (made unique); returns a `$ref` to it. */
  add(schema: JsonSchema, name: string): { $ref: string } {
    const base = this.#free(sanitize(name))
    // Name the hoisted definitions first, so refs to them can be rewritten.
    const defs = { ...asRecord(schema.$defs), ...asRecord(schema.definitions) }
    const defNames = new Map<string, string>()
    for (const key of Object.keys(defs)) defNames.set(key, this.#free(`${base}.${sanitize(key)}`))
    // Reserve the root's name before the defs that may point at it are stored.
    this.schemas[base] = {}
    const rewrite = (value: unknown) => rewriteRefs(value, base, defNames, 0)
    for (const [key, def] of Object.entries(defs)) {
      this.schemas[defNames.get(key) as string] = rewrite(def) as JsonSchema
    }
    const { $defs: _d, definitions: _o, $schema: _s, $id: _i, ...root } = schema
    const rewritten = rewrite(root) as JsonSchema
    if (defNames.size > 0) {
      // With definitions the schema is kept as it is: they may refer back to it by name.
      this.schemas[base] = rewritten
      return { $ref: ref(base) }
    }
    delete this.schemas[base]
    const key = canonical(rewritten)
    const existing = this.#byContent.get(key)
    if (existing) return { $ref: ref(existing) }
    this.schemas[base] = rewritten
    this.#byContent.set(key, base)
    return { $ref: ref(base) }
  }

  /** Add a schema under exactly `name` (the error schema, the /rpc envelope). */
  define(name: string, schema: JsonSchema): { $ref: string } {
    this.schemas[name] = schema
    this.#byContent.set(canonical(schema), name)
    return { $ref: ref(name) }
  }

  #free(name: string): string {
    let candidate = name || 'Schema'
    for (let i = 2; candidate in this.schemas; i++) candidate = `${name}${i}`
    return candidate
  }
}

function ref(name: string): string {
  return `#/components/schemas/${name}`
}

/** A copy of `value` with local refs pointing into components; `$id`/`$schema` dropped inside. */
function rewriteRefs(value: unknown, self: string, defs: Map<string, string>, depth: number): unknown {
  if (depth > MAX_DEPTH) return {}
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, self, defs, depth + 1))
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (key === '$id' || key === '$schema' || key === '$defs' || key === 'definitions' || key === '__proto__')
      continue
    if (key === '$ref' && typeof v === 'string') {
      const target = resolveLocal(v, self, defs)
      if (target === null) return {}
      out.$ref = target
      continue
    }
    out[key] = rewriteRefs(v, self, defs, depth + 1)
  }
  return out
}

/** Where a `$ref` goes once hoisted: a component ref, the same absolute URL, or null for nowhere. */
function resolveLocal(target: string, self: string, defs: Map<string, string>): string | null {
  if (target === '#') return ref(self)
  const local = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(target)
  if (local) {
    const name = defs.get(decodeURIComponent((local[1] as string).replace(/~1/g, '/').replace(/~0/g, '~')))
    return name ? ref(name) : null
  }
  if (target.startsWith('#/components/schemas/')) return target
  if (/^https?:\/\//.test(target)) return target
  return null
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

/** JSON with sorted keys: equal schemas give equal text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
    )
  })
}

/** A component name: letters, digits, `.`, `-`, `_` (OpenAPI's rule). */
export function sanitize(name: string): string {
  return name.replace(COMPONENT_NAME, '_').slice(0, 200)
}
