import type { TopologyEdge } from '../../api/types.js'
import { Empty, ErrorBox } from '../components/bits.js'
import { duration, useResource } from '../hooks.js'
import { href } from '../router.js'

/** Columns by call depth: a service sits one column right of its furthest caller. */
export function layers(names: string[], edges: TopologyEdge[]): Map<string, number> {
  const depth = new Map(names.map((n) => [n, 0]))
  for (let pass = 0; pass < names.length; pass++) {
    let changed = false
    for (const e of edges) {
      if (e.from === e.to) continue
      const want = (depth.get(e.from) ?? 0) + 1
      if (want > (depth.get(e.to) ?? 0) && want < names.length) {
        depth.set(e.to, want)
        changed = true
      }
    }
    if (!changed) break
  }
  return depth
}

/** The call graph from traces, with rate, errors and p99 on each edge. */
export function TopologyPage() {
  const edges = useResource<{ edges: TopologyEdge[] }>('/topology', 5000)
  const list = edges.data?.edges ?? []
  // Services with no traced calls would only be noise here: the home page lists them.
  const names = [...new Set(list.flatMap((e) => [e.from, e.to]))].sort()
  const depth = layers(names, list)
  const columns = new Map<number, string[]>()
  for (const name of names)
    columns.set(depth.get(name) ?? 0, [...(columns.get(depth.get(name) ?? 0) ?? []), name])
  const colWidth = 360
  const rowHeight = 70
  const pos = new Map<string, { x: number; y: number }>()
  for (const [col, members] of columns)
    for (const [i, name] of members.entries())
      pos.set(name, { x: 20 + col * colWidth, y: 30 + i * rowHeight })
  const width = 40 + Math.max(1, columns.size) * colWidth
  const height = 60 + Math.max(1, ...[...columns.values()].map((c) => c.length)) * rowHeight
  return (
    <section>
      <h1>Topology</h1>
      <p class="muted">Calls seen in traces over the last 15 minutes: requests/s · errors · p99 per edge.</p>
      <ErrorBox error={edges.error} />
      {names.length === 0 && edges.data ? <Empty>No calls traced yet.</Empty> : null}
      <svg
        class="topology"
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label="call graph"
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
          </marker>
        </defs>
        {list.map((e) => {
          const a = pos.get(e.from)
          const b = pos.get(e.to)
          if (!a || !b) return null
          const x1 = a.x + 170
          const y1 = a.y + 18
          const x2 = b.x
          const y2 = b.y + 18
          return (
            <g key={`${e.from}-${e.to}-${e.via}`} class={`edge ${e.errors > 0 ? 'err' : ''} via-${e.via}`}>
              <line x1={x1} y1={y1} x2={x2} y2={y2} marker-end="url(#arrow)" />
              <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 6} text-anchor="middle">
                {e.requests} calls · {e.rate < 0.01 ? '<0.01' : e.rate.toFixed(2)}/s · {e.errors} err · p99{' '}
                {duration(e.p99)}
              </text>
            </g>
          )
        })}
        {names.map((name) => {
          const p = pos.get(name) as { x: number; y: number }
          return (
            <a key={name} href={href(['services', name])}>
              <g class="node">
                <rect x={p.x} y={p.y} width={170} height={36} rx={6} />
                <text x={p.x + 85} y={p.y + 23} text-anchor="middle">
                  {name}
                </text>
              </g>
            </a>
          )
        })}
      </svg>
    </section>
  )
}
