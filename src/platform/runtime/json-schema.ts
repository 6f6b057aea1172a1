import type { StandardIssue, StandardSchema } from '../../server/standard-schema.js'

/** The part of JSON Schema the runtime's requests use. */
export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | ('string' | 'integer' | 'number')[]
  description?: string
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: false | Schema
  propertyNames?: { pattern: string }
  maxProperties?: number
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
}

/**
 * A Standard Schema that validates with a JSON Schema (the subset in {@link Schema}) and
 * publishes it: one object both checks requests and documents them (`micro describe`),
 * without a schema library at run time.
 */
export function jsonSchema<T>(schema: Schema): StandardSchema<T> {
  const document = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema }
  return {
    '~standard': {
      version: 1,
      vendor: 'micro-ts',
      validate(value: unknown) {
        const issues: StandardIssue[] = []
        check(schema, value, [], issues)
        return issues.length > 0 ? { issues } : { value: value as T }
      },
      jsonSchema: { input: () => document, output: () => document },
    },
  }
}

function check(schema: Schema, value: unknown, path: string[], issues: StandardIssue[]): void {
  const fail = (message: string) => issues.push({ message, path: [...path] })
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    if (!types.some((t) => isType(t, value))) return void fail(`must be ${types.join(' or ')}`)
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      fail(`must have at least ${schema.minLength} characters`)
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      fail(`must have at most ${schema.maxLength} characters`)
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value))
      fail(`must match ${schema.pattern}`)
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`must be at least ${schema.minimum}`)
    if (schema.maximum !== undefined && value > schema.maximum) fail(`must be at most ${schema.maximum}`)
  }
  if (isType('object', value)) checkObject(schema, value as Record<string, unknown>, path, issues)
}

function checkObject(
  schema: Schema,
  value: Record<string, unknown>,
  path: string[],
  issues: StandardIssue[],
): void {
  const keys = Object.keys(value)
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) issues.push({ message: 'is required', path: [...path, key] })
  }
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
    issues.push({ message: `must have at most ${schema.maxProperties} entries`, path: [...path] })
    return
  }
  for (const key of keys) {
    const here = [...path, key]
    if (schema.propertyNames && !new RegExp(schema.propertyNames.pattern).test(key)) {
      issues.push({ message: `is not a valid name (must match ${schema.propertyNames.pattern})`, path: here })
      continue
    }
    const property = schema.properties?.[key]
    if (property) {
      if (value[key] !== undefined) check(property, value[key], here, issues)
    } else if (schema.additionalProperties === false) {
      const known = Object.keys(schema.properties ?? {}).join(', ')
      issues.push({ message: `is not a known field (known: ${known})`, path: here })
    } else if (schema.additionalProperties) {
      check(schema.additionalProperties, value[key], here, issues)
    }
  }
}

function isType(type: string, value: unknown): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
    default:
      return typeof value === type
  }
}
