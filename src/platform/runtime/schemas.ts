import { jsonSchema, type Schema } from './json-schema.js'
import type { CreateRequest, DeleteRequest, LogsRequest, ReadRequest, UpdateRequest } from './types.js'

/** Service names: what a registry name and a folder name can both be. */
export const NAME_PATTERN = '^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$'
/** Namespaces: letters, digits, `.`, `_`, `-`; never `.` or `..` alone. */
export const NAMESPACE_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$'
/** Variable names a shell would accept (`__proto__` is one, and is refused). */
export const ENV_NAME_PATTERN = '^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,127}$'
export const MAX_INSTANCES = 64

const namespace: Schema = {
  type: 'string',
  pattern: NAMESPACE_PATTERN,
  description: 'registry namespace of the service (default micro)',
}
const name: Schema = { type: 'string', pattern: NAME_PATTERN, description: 'the service name' }
const source: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 4096,
  description:
    "absolute path on the runtime's machine: a service.toml folder, a module, or a folder with an entry",
}
const instances: Schema = { type: 'integer', minimum: 1, maximum: MAX_INSTANCES }
const env: Schema = {
  type: 'object',
  maxProperties: 200,
  propertyNames: { pattern: ENV_NAME_PATTERN },
  additionalProperties: { type: 'string', maxLength: 32 * 1024 },
  description: 'extra environment variables of every instance',
}

export const createSchema = jsonSchema<CreateRequest>({
  type: 'object',
  properties: { namespace, name, source, instances, env },
  required: ['source'],
  additionalProperties: false,
})

export const readSchema = jsonSchema<ReadRequest>({
  type: 'object',
  properties: { namespace, name },
  additionalProperties: false,
})

export const updateSchema = jsonSchema<UpdateRequest>({
  type: 'object',
  properties: { namespace, name, source, instances, env },
  additionalProperties: false,
})

export const deleteSchema = jsonSchema<DeleteRequest>({
  type: 'object',
  properties: { namespace, name },
  required: ['name'],
  additionalProperties: false,
})

export const logsSchema = jsonSchema<LogsRequest>({
  type: 'object',
  properties: {
    namespace,
    name,
    follow: { type: 'boolean', description: 'keep the stream open and send new lines' },
    since: {
      type: ['number', 'string'],
      maxLength: 64,
      description: 'ms since the epoch, an ISO time, or a duration back from now (10m)',
    },
    lines: { type: 'integer', minimum: 0, maximum: 100_000, description: 'the last N past lines' },
  },
  required: ['name'],
  additionalProperties: false,
})
