import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { request } from '../api.js'
import { Badge, ErrorBox } from '../components/bits.js'
import { useApp } from '../context.js'
import { useResource } from '../hooks.js'

/** The config tree with secrets masked; an admin reveals one; set and delete values. */
export function ConfigPage() {
  const { readOnly, info } = useApp()
  const { data, error, reload } = useResource<{ tree: Record<string, unknown>; secrets: string[] }>('/config')
  const [revealed, setRevealed] = useState<Record<string, string>>({})
  const [failure, setFailure] = useState<unknown>(undefined)
  const [path, setPath] = useState('')
  const [value, setValue] = useState('')
  const [secret, setSecret] = useState(false)
  const mayReveal = !readOnly && (!info.auth.enabled || info.auth.identity?.admin === true)
  const reveal = async (p: string) => {
    try {
      const answer = await request<{ value: string }>('POST', '/config/reveal', { path: p })
      setRevealed((r) => ({ ...r, [p]: answer.value }))
    } catch (e) {
      setFailure(e)
    }
  }
  const save = async () => {
    setFailure(undefined)
    let parsed: unknown = value
    if (!secret) {
      try {
        parsed = JSON.parse(value)
      } catch {
        // plain text
      }
    }
    try {
      await request('PUT', '/config', { path, value: parsed, secret })
      setValue('')
      await reload()
    } catch (e) {
      setFailure(e)
    }
  }
  const remove = async (p: string) => {
    try {
      await request('DELETE', `/config?path=${encodeURIComponent(p)}`)
      await reload()
    } catch (e) {
      setFailure(e)
    }
  }
  const secrets = new Set(data?.secrets ?? [])
  const leaf = (p: string, v: unknown): ComponentChildren =>
    secrets.has(p) ? (
      <>
        <Badge kind="warn">secret</Badge> <span class="mono">{revealed[p] ?? '••••••••'}</span>{' '}
        {mayReveal && revealed[p] === undefined ? (
          <button type="button" class="small" onClick={() => reveal(p)}>
            reveal
          </button>
        ) : null}
      </>
    ) : (
      <span class="mono">{JSON.stringify(v)}</span>
    )
  return (
    <section>
      <h1>Config</h1>
      <ErrorBox error={error ?? failure} />
      <div class="tree">
        {data ? <Tree value={data.tree} path="" leaf={leaf} remove={readOnly ? undefined : remove} /> : null}
      </div>
      {!readOnly ? (
        <div class="panel">
          <h2>Set a value</h2>
          <div class="toolbar">
            <input
              placeholder="path, e.g. db.url"
              aria-label="path"
              class="mono"
              value={path}
              onInput={(e) => setPath((e.target as HTMLInputElement).value)}
            />
            <input
              placeholder="value (JSON or text)"
              aria-label="value"
              class="mono wide"
              value={value}
              onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            />
            <label>
              <input
                type="checkbox"
                checked={secret}
                onChange={(e) => setSecret((e.target as HTMLInputElement).checked)}
              />{' '}
              secret
            </label>
            <button type="button" class="primary" onClick={save} disabled={!path}>
              Set
            </button>
          </div>
        </div>
      ) : null}
    </section>
  )
}

function Tree(props: {
  value: unknown
  path: string
  leaf: (p: string, v: unknown) => ComponentChildren
  remove?: (p: string) => void
}) {
  const { value, path } = props
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return <>{props.leaf(path, value)}</>
  return (
    <ul>
      {Object.entries(value as Record<string, unknown>).map(([key, child]) => {
        const p = path ? `${path}.${key}` : key
        const nested = child !== null && typeof child === 'object' && !Array.isArray(child)
        return (
          <li key={key}>
            <span class="key">{key}</span>
            {nested ? null : ': '}
            {nested ? <Tree {...props} value={child} path={p} /> : props.leaf(p, child)}
            {props.remove && !nested ? (
              <button
                type="button"
                class="small link"
                onClick={() => props.remove?.(p)}
                aria-label={`delete ${p}`}
              >
                ×
              </button>
            ) : null}
          </li>
        )
      })}
    </ul>
  )
}
