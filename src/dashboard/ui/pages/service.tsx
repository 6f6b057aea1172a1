import type { EndpointRecord, ServiceRecord } from '../../../registry/registry.js'
import type { RuntimeService } from '../../api/types.js'
import { Badge, ErrorBox, Json } from '../components/bits.js'
import { ago, useResource } from '../hooks.js'
import { href } from '../router.js'

interface Detail {
  name: string
  versions: ServiceRecord[]
  runtime?: RuntimeService
}

/** One service: versions, nodes (with process facts), endpoints with schemas, subscribers. */
export function ServicePage({ name }: { name: string }) {
  const { data, error } = useResource<Detail>(`/services/${encodeURIComponent(name)}`, 5000)
  if (error) return <ErrorBox error={error} />
  if (!data) return <p class="loading">loading…</p>
  const run = data.runtime
  return (
    <section>
      <h1>
        {data.name} <small class="muted">{data.versions.map((v) => v.version).join(', ')}</small>
      </h1>
      {run ? (
        <p>
          <Badge kind={run.status === 'running' ? 'ok' : 'error'}>{run.status}</Badge> pid {run.pid ?? '—'} ·
          up {run.startedAt ? ago(run.startedAt) : '—'} · {run.restarts} restarts
          {run.crashLoop ? <Badge kind="error">crash loop</Badge> : null} ·{' '}
          <a href={href(['logs'], { service: data.name })}>logs</a>
        </p>
      ) : null}
      {data.versions.map((v) => (
        <div key={v.version} class="version">
          <h2>
            version {v.version} <small class="muted">{v.nodes.length} nodes</small>
          </h2>
          <table class="list">
            <thead>
              <tr>
                <th>node</th>
                <th>address</th>
                <th>metadata</th>
              </tr>
            </thead>
            <tbody>
              {v.nodes.map((n) => (
                <tr key={n.id}>
                  <td class="mono">{n.id}</td>
                  <td class="mono">{n.address}</td>
                  <td class="mono small">
                    {Object.entries(n.metadata)
                      .map(([k, val]) => `${k}=${val}`)
                      .join('  ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Endpoints</h3>
          {v.endpoints
            .filter((e) => e.metadata.subscriber !== 'true')
            .map((e) => (
              <EndpointCard key={e.name} service={data.name} endpoint={e} />
            ))}
          {v.endpoints.some((e) => e.metadata.subscriber === 'true') ? (
            <>
              <h3>Subscribers</h3>
              <table class="list">
                <thead>
                  <tr>
                    <th>topic</th>
                    <th>queue</th>
                  </tr>
                </thead>
                <tbody>
                  {v.endpoints
                    .filter((e) => e.metadata.subscriber === 'true')
                    .map((e) => (
                      <tr key={e.name}>
                        <td class="mono">{e.metadata.topic ?? e.name}</td>
                        <td>{e.metadata.queue ?? '—'}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
      ))}
    </section>
  )
}

function EndpointCard({ service, endpoint }: { service: string; endpoint: EndpointRecord }) {
  const description = endpoint.metadata.description ?? (endpoint.request?.description as string | undefined)
  const scopes = endpoint.metadata.scopes?.split(/[\s,]+/).filter(Boolean) ?? []
  return (
    <details class="endpoint">
      <summary>
        <span class="mono">{endpoint.name}</span>{' '}
        {endpoint.metadata.stream === 'true' ? <Badge kind="info">stream</Badge> : null}
        {scopes.map((s) => (
          <Badge key={s} kind="muted">
            {s}
          </Badge>
        ))}{' '}
        <span class="desc">{description}</span> <a href={href(['call', service, endpoint.name])}>call →</a>
      </summary>
      <div class="schemas">
        <div>
          <h4>request</h4>
          {endpoint.request ? <Json value={endpoint.request} /> : <p class="muted">no schema</p>}
        </div>
        <div>
          <h4>response</h4>
          {endpoint.response ? <Json value={endpoint.response} /> : <p class="muted">no schema</p>}
        </div>
      </div>
    </details>
  )
}
