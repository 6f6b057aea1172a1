import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'

/** A small line chart of a series (SVG, no library). */
export function Sparkline({
  values,
  color = 'accent',
  title,
}: {
  values: number[]
  color?: string
  title?: string
}) {
  const width = 96
  const height = 24
  const max = Math.max(1, ...values)
  const step = values.length > 1 ? width / (values.length - 1) : width
  const points = values
    .map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`)
    .join(' ')
  return (
    <svg
      class={`spark spark-${color}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={title}
    >
      <title>{title}</title>
      <polyline points={points} fill="none" stroke-width="1.5" />
    </svg>
  )
}

/** JSON, pretty-printed. */
export function Json({ value, class: className }: { value: unknown; class?: string }) {
  return (
    <pre class={`json ${className ?? ''}`}>{value === undefined ? '' : JSON.stringify(value, null, 2)}</pre>
  )
}

/** A failure as the user sees it: the error JSON's detail and code. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null
  const e = error as { message?: string; status?: number }
  return (
    <div class="error-box" role="alert">
      {e.status ? <strong>{e.status} </strong> : null}
      {e.message ?? String(error)}
    </div>
  )
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>
}

/** The green dot of a live stream. */
export function Live({ open }: { open: boolean }) {
  return <span class={`live ${open ? 'on' : 'off'}`} title={open ? 'live' : 'reconnecting'} />
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>
}

/**
 * Only the rows in view are in the DOM: a list of 1,000 endpoints stays fast. Rows have a
 * fixed height.
 */
export function VirtualList<T>(props: {
  items: T[]
  rowHeight: number
  height: number
  render: (item: T, index: number) => ComponentChildren
}) {
  const { items, rowHeight, height, render } = props
  const ref = useRef<HTMLDivElement>(null)
  const [top, setTop] = useState(0)
  useEffect(() => {
    if (ref.current) ref.current.scrollTop = 0
    setTop(0)
  }, [items])
  const first = Math.max(0, Math.floor(top / rowHeight) - 5)
  const last = Math.min(items.length, Math.ceil((top + height) / rowHeight) + 5)
  return (
    <div
      ref={ref}
      class="virtual"
      style={{ height: `${Math.min(height, items.length * rowHeight + 2)}px` }}
      onScroll={(e) => setTop((e.target as HTMLDivElement).scrollTop)}
    >
      <div style={{ height: `${items.length * rowHeight}px`, position: 'relative' }}>
        <div style={{ transform: `translateY(${first * rowHeight}px)` }}>
          {items.slice(first, last).map((item, i) => render(item, first + i))}
        </div>
      </div>
    </div>
  )
}

/** A button that copies text, saying so for a moment. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false)
  return (
    <button
      type="button"
      class="small"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text)
        } catch {
          // clipboard refused (http, permissions): the text is on screen to copy by hand
        }
        setDone(true)
        setTimeout(() => setDone(false), 1200)
      }}
    >
      {done ? 'copied' : label}
    </button>
  )
}
