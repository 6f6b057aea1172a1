import type { MicroError } from '../errors/errors.js'
import { badRequest } from '../errors/errors.js'
import type { JsonSchema } from '../registry/registry.js'
import type { StandardIssue, StandardSchema } from './standard-schema.js'

/**
 * Validate `value` against a Standard Schema. Returns the (possibly transformed) value,
 * or a 400 MicroError listing every issue with its path.
 */
export function validate(
  schema: StandardSchema,
  value: unknown,
  service: string,
  what: string,
): unknown | Promise<unknown> {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) return result.then((r) => outcome(r, service, what))
  return outcome(result, service, what)
}

function outcome(
  result: { value?: unknown; issues?: ReadonlyArray<StandardIssue> },
  service: string,
  what: string,
): unknown {
  if (result.issues) throw invalid(result.issues, service, what)
  return result.value
}

function invalid(issues: ReadonlyArray<StandardIssue>, service: string, what: string): MicroError {
  const lines = issues.map((issue) => {
    const path = (issue.path ?? [])
      .map((p) => String(typeof p === 'object' && p !== null ? p.key : p))
      .join('.')
    return path ? `${path}: ${issue.message}` : issue.message
  })
  return badRequest(service, `invalid ${what}: ${lines.join('; ')}`)
}

/** The JSON Schema of a Standard Schema, when its library implements Standard JSON Schema. */
export function jsonSchemaOf(
  schema: StandardSchema | undefined,
  side: 'input' | 'output',
): JsonSchema | undefined {
  const converter = schema?.['~standard'].jsonSchema
  if (!converter) return undefined
  try {
    return converter[side]({ target: 'draft-2020-12' })
  } catch {
    // Some schemas (transforms, custom refinements) cannot be described; publish none.
    return undefined
  }
}
