import type { JsonSchema } from '../../registry/registry.js'

/** The error every micro call fails with, on every path: `{id, code, detail, status}`. */
export const MICRO_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'A micro error. `code` is the HTTP status it is answered with.',
  properties: {
    id: { type: 'string', description: 'Who raised it: a service name, or micro.gateway' },
    code: { type: 'integer', description: 'HTTP-style status code', examples: [404] },
    detail: { type: 'string', description: 'What went wrong' },
    status: { type: 'string', description: "The code's reason phrase", examples: ['Not Found'] },
  },
  required: ['id', 'code', 'detail', 'status'],
}

/** `POST /rpc`'s body. */
export const RPC_ENVELOPE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    service: { type: 'string', description: 'The service, e.g. greeter' },
    endpoint: { type: 'string', description: 'Handler.Method, e.g. Greeter.Hello' },
    request: { description: 'The request to send it' },
    version: { type: 'string', description: 'Only nodes of this version' },
    timeout: { type: ['integer', 'string'], description: 'ms, or a duration such as "5s"' },
  },
  required: ['service', 'endpoint'],
}

const REASONS: Record<string, string> = {
  '400': 'The request is not what the endpoint takes (the detail lists the issues)',
  '401': 'No valid token',
  '403': 'The token lacks a scope the endpoint requires',
  '404': 'No such service or endpoint is registered',
  '408': 'The call ran past its deadline',
  '429': 'Too many requests from this client',
  '500': 'The service failed',
  '503': 'No node of the service is available',
}

/** `components.responses`: one per status, each the error JSON. */
export function errorResponses(errorRef: { $ref: string }): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(REASONS).map(([code, description]) => [
      `Error${code}`,
      { description, content: { 'application/json': { schema: errorRef } } },
    ]),
  )
}
