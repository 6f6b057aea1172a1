import { useMemo, useRef, useState } from 'preact/hooks'
import type { SpanRecord, TraceSummary } from '../../api/types.js'
import { Badge, Empty, ErrorBox, Json, Live } from '../components/bits.js'
import { ago, duration, useListKeys, useResource, useStream } from '../hooks.js'
import { href, navigate } from '../router.js'

const FILTERS = ['service', 'endpoint', 'status', 'minDuration', 'maxDuration'] as const

/** The trace list: filters in the URL (deep links), live updates over SSE. */
export function TracesPage({ query }: { query: URLSearchParams }) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? '']))
  const qs = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== '')).toString()
  const { data, error, reload } = useResource<{ traces: TraceSummary[] }>(
    `/traces?limit=200${qs ? `&${qs}` : ''}`,
  )
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const live = useStream('/traces/live', {
    trace: () => {
      clearTimeout(timer.current)
      timer.current = setTimeout(() => void reload(), 300)
    },
  })
  const traces = data?.traces ?? []
  const [selected] = useListKeys(traces.length, (i) => navigate(href(['traces', traces[i]?.traceId ?? ''])))
  const set = (key: string, value: string) => navigate(href(['traces'], { ...filters, [key]: value }), true)
  return (
    <section>
      <h1>
        Traces <Live open={live} />
      </h1>
      <form class="toolbar" onSubmit={(e) => e.preventDefault()}>
        <input
          placeholder="service"
          aria-label="service"
          value={filters.service}
          onChange={(e) => set('service', (e.target as HTMLInputElement).value)}
        />
        <input
          placeholder="endpoint or topic"
          aria-label="endpoint"
          value={filters.endpoint}
          onChange={(e) => set('endpoint', (e.target as HTMLInputElement).value)}
        />
        <select
          aria-label="status"
          value={filters.status}
          onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}
        >
          <option value="">any status</option>
          <option value="ok">ok</option>
          <option value="error">error</option>
        </select>
        <input
          type="number"
          min={0}
          placeholder="min ms"
          aria-label="minimum duration"
          value={filters.minDuration}
          onChange={(e) => set('minDuration', (e.target as HTMLInputElement).value)}
        />
        <input
          type="number"
          min={0}
          placeholder="max ms"
          aria-label="maximum duration"
          value={filters.maxDuration}
          onChange={(e) => set('maxDuration', (e.target as HTMLInputElement).value)}
        />
      </form>
      <ErrorBox error={error} />
      {traces.length === 0 && data ? <Empty>No traces match.</Empty> : null}
      <table class="list">
        <thead>
          <tr>
            <th>when</th>
            <th>trace</th>
            <th>services</th>
            <th class="num">spans</th>
            <th class="num">duration</th>
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {traces.map((t, i) => (
            <tr
              key={t.traceId}
              class={i === selected ? 'selected' : ''}
              data-selected={i === selected ? 'true' : undefined}
            >
              <td class="muted">{ago(t.start)} ago</td>
              <td>
                <a href={href(['traces', t.traceId])} class="mono">
                  {t.name}
                </a>
              </td>
              <td>{t.services.join(' → ')}</td>
              <td class="num">{t.spans}</td>
              <td class="num">{duration(t.duration)}</td>
              <td>
                {t.errors > 0 ? (
                  <Badge kind="error">
                    {t.errors} error{t.errors > 1 ? 's' : ''}
                  </Badge>
                ) : (
                  <Badge kind="ok">ok</Badge>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

interface Row {
  span: SpanRecord
  depth: number
}

/** Spans in tree order (children after their parent, by start), with depth. */
export function treeOrder(spans: SpanRecord[]): Row[] {
  const ids = new Set(spans.map((s) => s.spanId))
  const children = new Map<string, SpanRecord[]>()
  const roots: SpanRecord[] = []
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const parent = span.parentSpanId ?? span.links?.[0]?.spanId
    if (parent && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span])
    else roots.push(span)
  }
  const out: Row[] = []
  const walk = (span: SpanRecord, depth: number) => {
    out.push({ span, depth })
    for (const child of children.get(span.spanId) ?? []) walk(child, depth + 1)
  }
  for (const root of roots) walk(root, 0)
  return out
}

/** One trace: a waterfall across services, with a span's attributes and events on click. */
export function TracePage({ id }: { id: string }) {
  const { data, error } = useResource<{ traceId: string; spans: SpanRecord[] }>(`/traces/${id}`)
  const [picked, setPicked] = useState<string | undefined>(undefined)
  const rows = useMemo(() => treeOrder(data?.spans ?? []), [data])
  const [selected] = useListKeys(rows.length, (i) => setPicked(rows[i]?.span.spanId))
  if (error) return <ErrorBox error={error} />
  if (!data) return <p class="loading">loading…</p>
  const start = Math.min(...data.spans.map((s) => s.start))
  const end = Math.max(...data.spans.map((s) => s.start + s.duration))
  const total = Math.max(end - start, 0.001)
  const span = data.spans.find((s) => s.spanId === picked)
  return (
    <section>
      <h1>
        Trace <span class="mono small">{id}</span>
      </h1>
      <p class="muted">
        {data.spans.length} spans · {duration(total)} ·{' '}
        {[...new Set(data.spans.map((s) => s.service))].join(', ')} ·{' '}
        <a href={href(['traces'])}>all traces</a>
      </p>
      <div class="waterfall" id="waterfall">
        {rows.map(({ span: s, depth }, i) => (
          <button
            type="button"
            key={s.spanId}
            class={`wf-row ${s.spanId === picked ? 'picked' : ''} ${i === selected ? 'selected' : ''}`}
            data-selected={i === selected ? 'true' : undefined}
            onClick={() => setPicked(s.spanId)}
          >
            <div class="wf-name" style={{ paddingLeft: `${depth * 14 + 4}px` }}>
              <span class={`kind kind-${s.kind}`}>{s.kind}</span> <strong>{s.service}</strong>{' '}
              <span class="mono">{s.name}</span>
            </div>
            <div class="wf-track">
              <div
                class={`wf-bar ${s.status === 'error' ? 'err' : ''}`}
                style={{
                  left: `${((s.start - start) / total) * 100}%`,
                  width: `${Math.max((s.duration / total) * 100, 0.4)}%`,
                }}
              />
              <span class="wf-time">{duration(s.duration)}</span>
            </div>
          </button>
        ))}
      </div>
      {span ? (
        <div class="panel span-detail">
          <h2>
            {span.service} · <span class="mono">{span.name}</span>{' '}
            {span.status === 'error' ? <Badge kind="error">error</Badge> : <Badge kind="ok">ok</Badge>}
          </h2>
          {span.statusMessage ? <p class="error-text">{span.statusMessage}</p> : null}
          <p class="muted mono small">
            span {span.spanId} · parent {span.parentSpanId ?? '—'} · {duration(span.duration)}
          </p>
          <h3>Attributes</h3>
          <Json value={span.attributes} />
          {span.events.length > 0 ? (
            <>
              <h3>Events</h3>
              <Json value={span.events} />
            </>
          ) : null}
        </div>
      ) : (
        <p class="muted">Pick a span (click, or j/k and Enter) to see its attributes and events.</p>
      )}
    </section>
  )
}
