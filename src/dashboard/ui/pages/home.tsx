import type { ErrorSample, ServiceRed, ServiceSummary } from '../../api/types.js'
import { Badge, Empty, ErrorBox, Sparkline } from '../components/bits.js'
import { useApp } from '../context.js'
import { ago, duration, useListKeys, useResource } from '../hooks.js'
import { href, navigate } from '../router.js'

/** Services with health, versions, instances and RED sparklines; the last errors. */
export function HomePage() {
  const { info } = useApp()
  const services = useResource<{ services: ServiceSummary[] }>(
    info.features.registry || info.features.runtime ? '/services' : undefined,
    5000,
  )
  const metrics = useResource<{ services: ServiceRed[] }>(
    info.features.traces ? '/metrics?window=300000&buckets=30' : undefined,
    5000,
  )
  const errors = useResource<{ errors: ErrorSample[] }>(
    info.features.traces ? '/errors?limit=20' : undefined,
    5000,
  )
  const list = services.data?.services ?? []
  const red = new Map((metrics.data?.services ?? []).map((s) => [s.service, s]))
  const [selected] = useListKeys(list.length, (i) => navigate(href(['services', list[i]?.name ?? ''])))
  const total = list.reduce((n, s) => n + s.nodes, 0)
  return (
    <section>
      <h1>Home</h1>
      <div class="cards">
        <div class="card">
          <div class="big">{list.length}</div>services
        </div>
        <div class="card">
          <div class="big">{total}</div>instances
        </div>
        <div class="card">
          <div class="big">{list.reduce((n, s) => n + s.endpoints, 0)}</div>endpoints
        </div>
        <div class="card">
          <div class="big">{list.filter((s) => s.health !== 'up').length}</div>not up
        </div>
      </div>
      <ErrorBox error={services.error} />
      <table class="list">
        <thead>
          <tr>
            <th>service</th>
            <th>health</th>
            <th>versions</th>
            <th class="num">instances</th>
            <th class="num">endpoints</th>
            {info.features.traces ? (
              <>
                <th>requests</th>
                <th>errors</th>
                <th>p99</th>
              </>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {list.map((s, i) => {
            const series = red.get(s.name)
            return (
              <tr
                key={s.name}
                data-selected={i === selected ? 'true' : undefined}
                class={i === selected ? 'selected' : ''}
              >
                <td>
                  <a href={href(['services', s.name])}>{s.name}</a>
                </td>
                <td>
                  <span class={`dot dot-${s.health}`} /> {s.health}
                  {s.health === 'crash-loop' ? <Badge kind="error">crash loop</Badge> : null}
                </td>
                <td class="mono">{s.versions.join(', ')}</td>
                <td class="num">{s.nodes}</td>
                <td class="num">{s.endpoints}</td>
                {info.features.traces ? (
                  <>
                    <td>
                      <Sparkline values={series?.requests ?? []} title={`${s.name} requests`} />{' '}
                      <small>{sum(series?.requests)}</small>
                    </td>
                    <td>
                      <Sparkline values={series?.errors ?? []} color="error" title={`${s.name} errors`} />{' '}
                      <small>{sum(series?.errors)}</small>
                    </td>
                    <td>
                      <Sparkline values={series?.p99 ?? []} color="warn" title={`${s.name} p99`} />{' '}
                      <small>{series ? duration(Math.max(...series.p99)) : ''}</small>
                    </td>
                  </>
                ) : null}
              </tr>
            )
          })}
        </tbody>
      </table>
      {list.length === 0 && !services.loading ? <Empty>No services in this namespace yet.</Empty> : null}
      {info.features.traces ? (
        <>
          <h2>Last errors</h2>
          {(errors.data?.errors ?? []).length === 0 ? <Empty>No errors recorded.</Empty> : null}
          <ul class="errors">
            {(errors.data?.errors ?? []).map((e) => (
              <li key={e.spanId}>
                <span class="muted">{ago(e.time)} ago</span> <strong>{e.service}</strong>{' '}
                <span class="mono">{e.name}</span> {e.code ? <Badge kind="error">{e.code}</Badge> : null}{' '}
                {e.message} <a href={href(['traces', e.traceId])}>trace →</a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  )
}

function sum(values: number[] | undefined): number | string {
  return values ? values.reduce((a, b) => a + b, 0) : ''
}
