import { useMemo, useState } from 'preact/hooks'
import type { EndpointEntry, ServiceSummary } from '../../api/types.js'
import { Badge, Empty, ErrorBox, VirtualList } from '../components/bits.js'
import { useListKeys, useResource } from '../hooks.js'
import { href, navigate } from '../router.js'

interface Indexed extends EndpointEntry {
  text: string
}

/** Every word must appear (in service, endpoint, description or scopes): fast enough for thousands. */
export function search<T extends { text: string }>(items: T[], query: string): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean)
  if (words.length === 0) return items
  return items.filter((item) => words.every((w) => item.text.includes(w)))
}

/** The catalog: search and filter every endpoint of every service. */
export function CatalogPage({ query }: { query: string }) {
  const services = useResource<{ services: ServiceSummary[] }>('/services')
  const index = useResource<{ endpoints: EndpointEntry[] }>('/endpoints')
  const [q, setQ] = useState(query)
  const [kind, setKind] = useState<'all' | 'stream' | 'unary'>('all')
  const entries = useMemo<Indexed[]>(
    () =>
      (index.data?.endpoints ?? []).map((e) => ({
        ...e,
        text: `${e.service} ${e.name} ${e.description ?? ''} ${(e.scopes ?? []).join(' ')}`.toLowerCase(),
      })),
    [index.data],
  )
  const found = useMemo(
    () => search(entries, q).filter((e) => kind === 'all' || (kind === 'stream') === e.stream),
    [entries, q, kind],
  )
  const serviceHits = useMemo(() => {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean)
    return (services.data?.services ?? []).filter((s) => words.every((w) => s.name.toLowerCase().includes(w)))
  }, [services.data, q])
  const open = (i: number) => {
    const e = found[i]
    if (e) navigate(href(['call', e.service, e.name]))
  }
  const [selected] = useListKeys(found.length, open)
  return (
    <section>
      <h1>Services</h1>
      <div class="toolbar">
        <input
          data-search
          type="search"
          class="search wide"
          placeholder="Filter services and endpoints ( / )"
          value={q}
          autofocus
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && found.length > 0) open(Math.max(0, selected))
          }}
        />
        <select
          value={kind}
          onChange={(e) => setKind((e.target as HTMLSelectElement).value as typeof kind)}
          aria-label="kind"
        >
          <option value="all">all endpoints</option>
          <option value="unary">request/response</option>
          <option value="stream">streaming</option>
        </select>
        <span class="muted">
          {serviceHits.length} services, {found.length} of {entries.length} endpoints
        </span>
      </div>
      <ErrorBox error={index.error ?? services.error} />
      <div class="chips">
        {serviceHits.slice(0, 40).map((s) => (
          <a key={s.name} class="chip" href={href(['services', s.name])}>
            <span class={`dot dot-${s.health}`} /> {s.name} <small>{s.versions.join(', ')}</small>
          </a>
        ))}
        {serviceHits.length > 40 ? <span class="muted">and {serviceHits.length - 40} more</span> : null}
      </div>
      {found.length === 0 && !index.loading ? <Empty>No endpoint matches.</Empty> : null}
      <VirtualList
        items={found}
        rowHeight={34}
        height={560}
        render={(e, i) => (
          <div
            key={`${e.service}/${e.version}/${e.name}`}
            class={`row ${i === selected ? 'selected' : ''}`}
            data-selected={i === selected ? 'true' : undefined}
          >
            <a class="svc" href={href(['services', e.service])}>
              {e.service}
            </a>
            <a class="mono ep" href={href(['call', e.service, e.name])}>
              {e.name}
            </a>
            {e.stream ? <Badge kind="info">stream</Badge> : null}
            {(e.scopes ?? []).map((s) => (
              <Badge key={s} kind="muted">
                {s}
              </Badge>
            ))}
            <span class="desc">{e.description}</span>
          </div>
        )}
      />
    </section>
  )
}
