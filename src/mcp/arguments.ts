import type { Tool } from '@modelcontextprotocol/server'
import { badRequest } from '../errors/errors.js'
import type { StoreRecord } from '../store/store.js'
import { parseDuration } from '../util/duration.js'

// Reading built-in tools' arguments: a wrong one is a 400 naming it, which the agent gets
// back as an isError result (MCP: input errors are tool errors, so the model can retry).

const ID = 'micro.mcp'

/** A text argument; `required` makes a missing one a 400. */
export function text(args: Record<string, unknown>, name: string, required: true): string
export function text(args: Record<string, unknown>, name: string, required?: false): string | undefined
export function text(args: Record<string, unknown>, name: string, required = false): string | undefined {
  const value = args[name]
  if (value === undefined || value === null || value === '') {
    if (required) throw badRequest(ID, `${name} is required`)
    return undefined
  }
  if (typeof value !== 'string') throw badRequest(ID, `${name} must be a string`)
  if (value.length > 1024) throw badRequest(ID, `${name} is longer than 1024 characters`)
  return value
}

/** A whole number from `min` to `max`, `fallback` when absent. */
export function whole(
  args: Record<string, unknown>,
  name: string,
  fallback: number,
  max: number,
  min = 1,
): number {
  const value = args[name]
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw badRequest(ID, `${name} must be a whole number from ${min} to ${max}`)
  return value
}

/** A time back from now: `10m`, `2h`, an ISO time, or ms since the epoch. Undefined when absent. */
export function since(args: Record<string, unknown>, name: string, now = Date.now()): number | undefined {
  const value = args[name]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value !== 'string') throw badRequest(ID, `${name} must be a duration (10m) or an ISO time`)
  if (/^\d{4}-\d\d-\d\d/.test(value)) {
    const time = Date.parse(value)
    if (Number.isNaN(time)) throw badRequest(ID, `${name} "${value.slice(0, 40)}" is not a valid time`)
    return time
  }
  try {
    return now - parseDuration(value, name)
  } catch (error) {
    throw badRequest(ID, `${(error as Error).message}, or an ISO time`)
  }
}

/** Bytes as `{base64}` so answers stay JSON. */
export function jsonValue(value: unknown): unknown {
  return value instanceof Uint8Array ? { base64: Buffer.from(value).toString('base64') } : value
}

/** A store record as a tool answers it. */
export function recordJson(record: StoreRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    key: record.key,
    value: jsonValue(record.value),
    metadata: record.metadata,
  }
  if (record.expiry !== undefined) out.expiry = record.expiry
  return out
}

/** An object schema for a tool's arguments. */
export function objectSchema(
  properties: Record<string, Record<string, unknown>>,
  required: string[] = [],
): Tool['inputSchema'] {
  const schema: Record<string, unknown> = { type: 'object', properties }
  if (required.length > 0) schema.required = required
  return schema as Tool['inputSchema']
}
