import { useState } from 'preact/hooks'
import { Badge, CopyButton, Empty, ErrorBox, Json } from '../components/bits.js'
import { useResource } from '../hooks.js'
import { href } from '../router.js'

type Schema = Record<string, unknown>

interface Operation {
  operationId?: string
  summary?: string
  description?: string
  tags?: string[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<
    string,
    {
      $ref?: string
      description?: string
      content?: Record<string, { schema?: Schema; 'x-micro-message'?: Schema }>
    }
  >
  'x-micro-service'?: string
  'x-micro-endpoint'?: string
  'x-micro-stream'?: boolean
  'x-micro-idempotent'?: boolean
  'x-micro-scopes'?: string[]
}

interface Document {
  openapi: string
  info?: { title?: string; version?: string }
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

/** `#/components/schemas/x` to `x`. */
function refName(ref: unknown): string | undefined {
  return typeof ref === 'string' && ref.startsWith('#/components/schemas/') ? ref.slice(21) : undefined
}

/** A schema with its top-level `$ref` followed once, so the reader sees the fields. */
function shown(schema: Schema | undefined, components: Record<string, Schema>): Schema | undefined {
  const name = refName(schema?.$ref)
  return name !== undefined ? (components[name] ?? schema) : schema
}

/**
 * The API reference: the OpenAPI document the gateway serves at /openapi.json, read as a
 * person would: operations grouped by service with their request and reply schemas, the
 * error statuses, streaming and scopes, a "try it" link into the explorer, and the schemas.
 */
export function ReferencePage() {
  const doc = useResource<Document>('/openapi')
  const [filter, setFilter] = useState('')
  const components = doc.data?.components?.schemas ?? {}
  const byService = new Map<string, { path: string; method: string; op: Operation }[]>()
  for (const [path, methods] of Object.entries(doc.data?.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const service = op['x-micro-service'] ?? op.tags?.[0] ?? 'other'
      const text = `${service} ${op.summary ?? ''} ${op.description ?? ''}`.toLowerCase()
      if (filter && !text.includes(filter.toLowerCase())) continue
      byService.set(service, [...(byService.get(service) ?? []), { path, method, op }])
    }
  }
  const services = [...byService.keys()].sort()
  return (
    <section class="reference">
      <h1>API reference</h1>
      <p class="muted">
        OpenAPI {doc.data?.openapi ?? '3.1'} of this namespace, as the gateway serves it at{' '}
        <a href="/openapi.json">/openapi.json</a>. Every operation is also reachable through{' '}
        <code>POST /rpc</code>.
      </p>
      <ErrorBox error={doc.error} />
      <input
        class="search"
        type="search"
        placeholder="Filter operations"
        aria-label="filter operations"
        value={filter}
        onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
      />
      {doc.data && services.length === 0 ? <Empty>No operations.</Empty> : null}
      {services.map((service) => (
        <div key={service} class="card">
          <h2>{service}</h2>
          {(byService.get(service) ?? []).map(({ path, method, op }) => (
            <OperationView
              key={`${method} ${path}`}
              path={path}
              method={method}
              op={op}
              components={components}
            />
          ))}
        </div>
      ))}
      {Object.keys(components).length > 0 ? (
        <details>
          <summary>Schemas ({Object.keys(components).length})</summary>
          {Object.entries(components).map(([name, schema]) => (
            <div key={name} id={`schema-${name}`}>
              <h3>{name}</h3>
              <Json value={schema} />
            </div>
          ))}
        </details>
      ) : null}
    </section>
  )
}

function OperationView(props: {
  path: string
  method: string
  op: Operation
  components: Record<string, Schema>
}) {
  const { path, method, op, components } = props
  const request = shown(op.requestBody?.content?.['application/json']?.schema, components)
  const ok = op.responses?.['200']
  const reply = shown(
    ok?.content?.['application/json']?.schema ?? ok?.content?.['text/event-stream']?.['x-micro-message'],
    components,
  )
  const errors = Object.keys(op.responses ?? {}).filter((code) => code !== '200')
  const service = op['x-micro-service']
  const endpoint = op['x-micro-endpoint']
  const curl = `curl -XPOST ${location.origin}${path} -H 'Content-Type: application/json' -d '{}'`
  return (
    <details class="operation">
      <summary>
        <code>
          {method.toUpperCase()} {path}
        </code>{' '}
        {op['x-micro-stream'] ? <Badge kind="info">stream</Badge> : null}
        {op['x-micro-idempotent'] ? <Badge kind="ok">idempotent</Badge> : null}
        {(op['x-micro-scopes'] ?? []).map((scope) => (
          <Badge key={scope} kind="warn">
            {scope}
          </Badge>
        ))}
      </summary>
      {op.description ? <p>{op.description}</p> : null}
      <p>
        {service && endpoint ? (
          <a href={href(['call', service, endpoint])}>try it in the explorer →</a>
        ) : null}{' '}
        <CopyButton text={curl} label="copy curl" />
      </p>
      <h4>Request</h4>
      {request && Object.keys(request).length > 0 ? <Json value={request} /> : <p class="muted">any JSON</p>}
      <h4>{op['x-micro-stream'] ? 'Each message' : 'Reply'}</h4>
      {reply && Object.keys(reply).length > 0 ? <Json value={reply} /> : <p class="muted">any JSON</p>}
      <p class="muted">
        Errors (the error JSON {'{id, code, detail, status}'}): {errors.join(', ')}
      </p>
    </details>
  )
}
